// SPDX-License-Identifier: Apache-2.0
/**
 * Readers for the self-hosting kit's files, for the tests beside this file: the Dockerfile (parsed
 * line by line: continuations joined, comments dropped, grouped by stage), docker-compose.yml (as
 * js-yaml reads it, typed loosely) and the paths of both.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";

export const ROOT = join(__dirname, "../../..");
export const path = (...parts: string[]): string => join(ROOT, ...parts);
export const read = (...parts: string[]): string => readFileSync(path(...parts), "utf8");

// --- Dockerfile ---

export interface Instruction {
  /** Upper-cased, e.g. `RUN`. */
  keyword: string;
  /** `--name=value` options before the arguments (COPY --from, HEALTHCHECK --interval, ...). */
  flags: Record<string, string>;
  /** The rest of the instruction, continuations joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** The image or stage after FROM. */
  from: string;
  /** The name after `AS`, if any. */
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions; lines before the first FROM are refused. */
export function parseDockerfile(text: string): Stage[] {
  const logical: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    // Comments (and parser directives, which are comments too) are dropped, also inside a continuation.
    if (line.startsWith("#")) return;
    if (!current && line === "") return;
    const continued = line.endsWith("\\");
    const body = continued ? line.slice(0, -1).trim() : line;
    if (current) current.text += body === "" ? "" : " " + body;
    else current = { text: body, line: i + 1 };
    if (!continued) {
      logical.push(current);
      current = undefined;
    }
  });
  if (current) throw new Error(`Dockerfile ends inside a continuation (line ${current.line})`);

  const stages: Stage[] = [];
  for (const { text: l, line } of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!;
    const flags: Record<string, string> = {};
    let flag: RegExpExecArray | null;
    while ((flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest))) {
      flags[flag[1]!] = flag[2] ?? "";
      rest = rest.slice(flag[0].length);
    }
    const instruction: Instruction = { keyword, flags, args: rest, line };
    if (keyword === "FROM") {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`line ${line}: cannot read FROM ${rest}`);
      stages.push({ from: from[1]!, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`line ${line}: ${keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** The arguments of an exec-form (`["a", "b"]`) instruction, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) {
    throw new Error(`not an exec form: ${args}`);
  }
  return parsed;
}

/** The shell commands of a stage's RUN instructions, split at `&&`, `;` and `||`. */
export function shellCommands(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.keyword === "RUN")
    .flatMap((i) => i.args.split(/&&|\|\||;/))
    .map((c) => c.replace(/[()]/g, "").trim())
    .filter(Boolean);
}

/** `ENV a=b c=d` (or the legacy `ENV a b`) of one stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === "ENV")) {
    if (!i.args.includes("=")) {
      const [k, ...v] = i.args.split(/\s+/);
      env[k!] = v.join(" ");
      continue;
    }
    for (const pair of i.args.split(/\s+/)) {
      const eq = pair.indexOf("=");
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** A stage and the stages it is built FROM, nearest first. */
export function ancestry(stages: Stage[], stage: Stage): Stage[] {
  const out = [stage];
  let parent = stages.find((s) => s.name === stage.from);
  while (parent && !out.includes(parent)) {
    out.push(parent);
    parent = stages.find((s) => s.name === parent!.from);
  }
  return out;
}

// --- docker-compose.yml ---

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  pull_policy?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[]; disable?: boolean };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(): ComposeFile {
  return yaml.load(read("docker-compose.yml")) as ComposeFile;
}

export interface Mount {
  /** A named volume, or a host path (starting with `.` or `/`). */
  source: string;
  target: string;
  readOnly: boolean;
  named: boolean;
}

/** The short-syntax `volumes` of a service (`source:target[:ro]`). */
export function mounts(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(":");
    if (!source || !target) throw new Error(`cannot read volume ${v}`);
    return { source, target, readOnly: mode === "ro", named: !/^[./~]/.test(source) };
  });
}

/** The mount whose target contains `file` (the longest such target), if any. */
export function mountOf(service: ComposeService, file: string): Mount | undefined {
  return mounts(service)
    .filter((m) => file === m.target || file.startsWith(m.target.replace(/\/?$/, "/")))
    .sort((a, b) => b.target.length - a.target.length)[0];
}

/** The value after `flag` in an argument list (e.g. `-f` in a command). */
export function argAfter(args: string[] | undefined, flag: string): string | undefined {
  const i = (args ?? []).indexOf(flag);
  return i >= 0 ? args![i + 1] : undefined;
}

/** Every value after each occurrence of `flag`. */
export function argsAfter(args: string[] | undefined, flag: string): string[] {
  return (args ?? []).flatMap((a, i) => (a === flag && args![i + 1] !== undefined ? [args![i + 1]!] : []));
}
