// SPDX-License-Identifier: Apache-2.0
/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line
 * must be a `# HELP`, a `# TYPE`, another comment or a sample, every sample's family must have been
 * typed before it, and label values must be well escaped. It throws on anything else, so a test
 * that parses an endpoint's answer also checks that Prometheus could read it.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Family name → its `# TYPE`. */
  types: Map<string, string>;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(?:,|$)/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.trim() !== "") {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels in: ${line}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_s, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

/** As Prometheus reads values (Go's ParseFloat: `NaN` and `Inf` in any case; prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  const lower = text.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`bad value in: ${line}`);
  return v;
}

/** The family a sample belongs to (`x_bucket`, `x_sum`, `x_count` belong to histogram `x`). */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count|created|total)$/, "");
  return types.has(base) ? base : undefined;
}

export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const typed = new RegExp(`^# TYPE (${NAME}) (\\S+)$`).exec(line);
      if (typed) {
        if (!TYPES.has(typed[2]!)) throw new Error(`unknown type in: ${line}`);
        types.set(typed[1]!, typed[2]!);
      } else if (line.startsWith("# TYPE") || (line.startsWith("# HELP") && !/^# HELP \S+ /.test(line))) {
        throw new Error(`bad comment: ${line}`);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample: ${line}`);
    if (familyOf(m[1]!, types) === undefined) throw new Error(`sample before its # TYPE: ${line}`);
    samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? "", line), value: parseValue(m[3]!, line) });
  }
  return { samples, types };
}

/** The value of the one sample with this name and (at least) these labels; undefined if none. */
export function sampleValue(
  exp: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = exp.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}
