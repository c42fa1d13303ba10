// SPDX-License-Identifier: Apache-2.0
/**
 * P4, parsers, in this process, against `JSON.parse` of the same content as JSON in the same run:
 * - MSNP: a stream of SDG pushes as the server sends them (top block with Ack-Id, Routing,
 *   Reliability and Messaging blocks, a text of 10–300 characters, some not ASCII) cut into
 *   64 KiB reads (and 1,400-byte ones), through FrameParser and parseMultipart. JSON: each push as
 *   one JSON object (`{command, trid, type, headers, routing, reliability, messaging, body}`),
 *   one Buffer per message, `JSON.parse(buf.toString())`.
 * - WBXML: ActiveSync Sync answers of 50 contacts each (Add, ServerId, ApplicationData with
 *   names, e-mail and Skype name) through decodeWbxml (and decodeWbxml + parseSyncResponse).
 *   JSON: the same tree as JSON (`{tag: text}` or `{tag: [children]}`), `JSON.parse(buf.toString())`.
 * MB/s counts each format's own input bytes (1 MB = 10^6 bytes); items/s counts messages or documents.
 * Each figure is the median of `repeats` timed passes after a warm-up pass.
 */
import { performance } from "node:perf_hooks";
import { parseSyncResponse } from "../src/skype/activesync/commands.js";
import { CodePage } from "../src/skype/activesync/code-pages.js";
import { decodeWbxml, encodeWbxml, wb, type WbxmlElement } from "../src/skype/activesync/wbxml.js";
import { buildMultipart, parseMultipart } from "../src/skype/msnp/body.js";
import { encodeFrame, FrameParser } from "../src/skype/msnp/framing.js";
import { median, round } from "./lib/stats.js";

export interface ParserFigure {
  name: string;
  bytes: number;
  items: number;
  mbPerSecond: number;
  itemsPerSecond: number;
}

export interface ParserPair {
  format: ParserFigure;
  json: ParserFigure;
  /** format MB/s ÷ JSON MB/s (the target), and items/s ÷ items/s. */
  ratioMb: number;
  ratioItems: number;
}

export interface ParserFigures {
  msnp: ParserPair;
  msnpSmallReads: ParserPair;
  wbxml: ParserPair;
  wbxmlToContacts: ParserPair;
}

const WORDS = ["hello", "wörld", "ça va", "✓ done", "see you at 5", "😀", "meeting", "Straße", "ok", "😀👍"];

function text(i: number): string {
  let s = `message ${i}:`;
  const target = 10 + ((i * 7919) % 290);
  for (let k = 0; s.length < target; k++) s += " " + WORDS[(i + k) % WORDS.length];
  return s.slice(0, target);
}

interface Push {
  ackId: string;
  routing: [string, string][];
  reliability: [string, string][];
  messaging: [string, string][];
  body: string;
}

function push(i: number): Push {
  const body = text(i);
  return {
    ackId: String(1000 + i),
    routing: [
      ["Routing", "1.0"],
      ["To", "8:live:alice_1"],
      ["From", "8:live:bob_1;epid={2f9c1e1a-0000-4000-8000-00000000000b}"],
    ],
    reliability: [["Reliability", "1.0"]],
    messaging: [
      ["Messaging", "2.0"],
      ["Client-Message-ID", String(4_000_000_000_000_000 + i)],
      ["Message-Type", "Text"],
      ["IM-Display-Name", "Bob Builder"],
      ["Content-Type", "text/plain; charset=UTF-8"],
      ["Original-Arrival-Time", "2026-12-04T21:30:00Z"],
      ["Message-ID", String(1_480_000_000_000 + i)],
      ["Content-Length", String(Buffer.byteLength(body))],
    ],
    body,
  };
}

function msnpBytes(p: Push): Buffer {
  return encodeFrame({
    command: "SDG",
    trid: 0,
    type: "MSGR",
    headers: [["Ack-Id", p.ackId]],
    body: buildMultipart({
      routing: p.routing,
      reliability: p.reliability,
      content: p.messaging,
      body: p.body,
    }),
  });
}

function pushJson(p: Push): Buffer {
  return Buffer.from(
    JSON.stringify({
      command: "SDG",
      trid: 0,
      type: "MSGR",
      headers: { "Ack-Id": p.ackId },
      routing: Object.fromEntries(p.routing),
      reliability: Object.fromEntries(p.reliability),
      messaging: Object.fromEntries(p.messaging),
      body: p.body,
    }),
  );
}

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function syncDocument(d: number, contacts: number): WbxmlElement {
  const AS = CodePage.AirSync;
  const C = CodePage.Contacts;
  const C2 = CodePage.Contacts2;
  const adds = Array.from({ length: contacts }, (_, j) =>
    wb(
      AS,
      "Add",
      wb(AS, "ServerId", `1:${d * contacts + j}`),
      wb(
        AS,
        "ApplicationData",
        wb(C, "FileAs", `Contact ${j} of ${d}, Ånström`),
        wb(C, "FirstName", `Contact ${j}`),
        wb(C, "LastName", `of ${d} Ånström`),
        wb(C, "Email1Address", `user${d}-c${j}@example.com`),
        wb(C2, "IMAddress", `live:user${d}-c${j}`),
      ),
    ),
  );
  return wb(
    AS,
    "Sync",
    wb(
      AS,
      "Collections",
      wb(
        AS,
        "Collection",
        wb(AS, "SyncKey", `{${d}}2`),
        wb(AS, "CollectionId", "1"),
        wb(AS, "Status", "1"),
        wb(AS, "Commands", adds),
      ),
    ),
  );
}

function treeJson(el: WbxmlElement): unknown {
  const only = el.children[0];
  if (el.children.length === 1 && typeof only === "string") return { [el.tag]: only };
  return { [el.tag]: el.children.map((c) => (typeof c === "string" ? c : treeJson(c as WbxmlElement))) };
}

function time(repeats: number, pass: () => void): number {
  pass(); // warm-up
  const ms: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    pass();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function figure(name: string, bytes: number, items: number, ms: number): ParserFigure {
  return {
    name,
    bytes,
    items,
    mbPerSecond: round(bytes / 1e6 / (ms / 1000), 1) ?? NaN,
    itemsPerSecond: round((items / ms) * 1000, 0) ?? NaN,
  };
}

function pair(format: ParserFigure, json: ParserFigure): ParserPair {
  return {
    format,
    json,
    ratioMb: round(format.mbPerSecond / json.mbPerSecond, 3) ?? NaN,
    ratioItems: round(format.itemsPerSecond / json.itemsPerSecond, 3) ?? NaN,
  };
}

let sink = 0;

export function runParsers(opts: { messages: number; documents: number; repeats: number }): ParserFigures {
  const pushes = Array.from({ length: opts.messages }, (_, i) => push(i));
  const stream = Buffer.concat(pushes.map(msnpBytes));
  const jsonPushes = pushes.map(pushJson);
  const jsonPushBytes = jsonPushes.reduce((n, b) => n + b.length, 0);

  const parseStream = (chunks: Buffer[]) => (): void => {
    const parser = new FrameParser();
    let frames = 0;
    for (const c of chunks)
      for (const f of parser.push(c)) {
        frames++;
        sink += parseMultipart(f.body).body.length;
      }
    if (frames !== opts.messages) throw new Error(`parsed ${frames} of ${opts.messages} frames`);
  };
  const parseJsonPushes = (): void => {
    for (const b of jsonPushes) sink += (JSON.parse(b.toString("utf8")) as { body: string }).body.length;
  };
  const jsonMs = time(opts.repeats, parseJsonPushes);
  const jsonPushFigure = figure("JSON.parse, one object per push", jsonPushBytes, opts.messages, jsonMs);
  const msnp = pair(
    figure(
      "MSNP FrameParser + parseMultipart, 64 KiB reads",
      stream.length,
      opts.messages,
      time(opts.repeats, parseStream(chunked(stream, 65536))),
    ),
    jsonPushFigure,
  );
  const msnpSmallReads = pair(
    figure(
      "MSNP FrameParser + parseMultipart, 1,400-byte reads",
      stream.length,
      opts.messages,
      time(opts.repeats, parseStream(chunked(stream, 1400))),
    ),
    jsonPushFigure,
  );

  const docs = Array.from({ length: opts.documents }, (_, d) => syncDocument(d, 50));
  const wbxmlDocs = docs.map((d) => Buffer.from(encodeWbxml(d)));
  const jsonDocs = docs.map((d) => Buffer.from(JSON.stringify(treeJson(d))));
  const wbxmlBytes = wbxmlDocs.reduce((n, b) => n + b.length, 0);
  const jsonDocBytes = jsonDocs.reduce((n, b) => n + b.length, 0);
  const jsonDocFigure = figure(
    "JSON.parse, the same tree",
    jsonDocBytes,
    opts.documents,
    time(opts.repeats, () => {
      for (const b of jsonDocs) sink += Object.keys(JSON.parse(b.toString("utf8")) as object).length;
    }),
  );
  const wbxml = pair(
    figure(
      "WBXML decodeWbxml, Sync answers of 50 contacts",
      wbxmlBytes,
      opts.documents,
      time(opts.repeats, () => {
        for (const b of wbxmlDocs) sink += decodeWbxml(b).children.length;
      }),
    ),
    jsonDocFigure,
  );
  const wbxmlToContacts = pair(
    figure(
      "WBXML decodeWbxml + parseSyncResponse",
      wbxmlBytes,
      opts.documents,
      time(opts.repeats, () => {
        for (const b of wbxmlDocs) sink += parseSyncResponse(decodeWbxml(b)).collections.length;
      }),
    ),
    jsonDocFigure,
  );
  if (sink < 0) throw new Error("unreachable");
  return { msnp, msnpSmallReads, wbxml, wbxmlToContacts };
}
