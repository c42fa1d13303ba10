// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzz targets of quotes (src/skype/msnp/quotes.ts, PROFILE §7.4) and consumption horizons
 * (src/skype/msnp/horizon.ts, §7.5), and of the bridge's rendering of a reply's body.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { skypeToMatrix } from "../../../../src/bridge/convert/index.js";
import { ProtocolParseError } from "../../../../src/skype/errors.js";
import { parseHorizon, parseHorizonNotification } from "../../../../src/skype/msnp/horizon.js";
import { SelfIdentity } from "../../../../src/skype/msnp/identity.js";
import { parseQuotes, quoteXml } from "../../../../src/skype/msnp/quotes.js";
import { escapeXml } from "../../../../src/skype/xml.js";
import { defineTarget, onlyTypedErrors, type SomeTarget } from "../harness.js";

const self = new SelfIdentity("alice@hotmail.co.uk", "live:alice_1");
const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
const mri = fc.oneof(
  fc.stringMatching(/^(1|8|19|28):[A-Za-z0-9._@-]{1,20}$/),
  fc.constantFrom("8:live:bob_1;epid={x}", "1:frank@outlook.com", "19:abc@thread.skype"),
);
const digits = fc.stringMatching(/^[1-9]\d{0,25}$/);

/** What XML can carry of `s` (escapeXml drops the rest). */
function xmlSafe(s: string): string {
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "");
}
/** The reader trims attribute values; parsers may normalise whitespace in them. */
const norm = (s: string | undefined): string => (s ?? "").replace(/\s+/g, " ").trim();

const roundTrip = defineTarget<{
  author: string;
  authorName: string;
  ts: number;
  conversation: string;
  messageId: string | undefined;
  text: string;
  reply: string;
}>({
  name: "quotes: quoteXml → parseQuotes round trip, any names and text",
  arbitrary: fc.record({
    author: mri,
    authorName: anyText,
    ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    conversation: mri,
    messageId: fc.option(fc.oneof(digits, anyText), { nil: undefined }),
    text: anyText,
    reply: anyText,
  }),
  check(i) {
    const body =
      quoteXml({
        author: i.author,
        authorName: i.authorName,
        timestampMs: i.ts,
        conversation: i.conversation,
        messageId: i.messageId,
        richText: escapeXml(i.text),
      }) + escapeXml(i.reply);
    const qs = parseQuotes(body);
    assert.equal(qs.length, 1);
    const q = qs[0]!;
    assert.equal(q.author, i.author.split(";")[0]);
    assert.equal(norm(q.authorName), norm(xmlSafe(i.authorName)));
    if (i.ts >= 1000) assert.equal(q.timestamp, Math.floor(i.ts / 1000));
    assert.equal(
      q.messageId,
      i.messageId !== undefined && /^\d{1,30}$/.test(i.messageId) ? i.messageId : undefined,
    );
    assert.equal(q.richText, escapeXml(i.text));
    // The bridge's rendering with the quote as the reply relation: the quote is gone, nothing throws.
    const rendered = skypeToMatrix({ type: "richtext", body }, { replyQuoteMessageId: q.messageId });
    if (q.messageId !== undefined) assert.ok(!(rendered.formatted_body ?? "").includes("<blockquote>"));
  },
});

const fragment = fc.oneof(
  anyText,
  fc.constantFrom(
    "<quote",
    "<quote>",
    "</quote>",
    '<quote messageid="1">',
    "<legacyquote>",
    "</legacyquote>",
    ' author="8:x"',
    " messageid='99'",
    "&lt;",
    "&amp",
    "<b>",
    "</b>",
    "<br>",
    "<!DOCTYPE x>",
    "<![CDATA[",
    "]]>",
    '"',
    ">",
    "&#0;",
    "\uD800",
  ),
);

const anyBody = defineTarget<string[]>({
  name: "quotes: parseQuotes and the reply rendering on any body",
  arbitrary: fc.array(fragment, { maxLength: 30 }),
  check(parts) {
    const body = parts.join("");
    const qs = parseQuotes(body);
    for (const q of qs) {
      if (q.messageId !== undefined) assert.match(q.messageId, /^\d{1,30}$/);
      if (q.author !== undefined) assert.match(q.author, /^\d+:[^;\s]+$/);
      if (q.timestamp !== undefined) assert.ok(Number.isSafeInteger(q.timestamp) && q.timestamp > 0);
      assert.equal(typeof q.richText, "string");
    }
    const out = skypeToMatrix({ type: "richtext", body }, { replyQuoteMessageId: qs[0]?.messageId ?? "1" });
    assert.equal(typeof out.body, "string");
    assert.ok(!(out.formatted_body ?? "").includes("<quote"), "no Skype markup passes through");
  },
});

const horizons = defineTarget<{ value: string; id: string; user: string; wrap: boolean }>({
  name: "horizons: any value, any NFY body",
  arbitrary: fc.record({
    value: fc.oneof(anyText, fc.stringMatching(/^[0-9;]{0,40}$/)),
    id: fc.oneof(mri, anyText),
    user: fc.oneof(mri, anyText),
    wrap: fc.boolean(),
  }),
  check({ value, id, user, wrap }) {
    const h = parseHorizon(value);
    if (h.messageId !== undefined) assert.match(h.messageId, /^\d{1,30}$/);
    if (h.clientMessageId !== undefined) assert.match(h.clientMessageId, /^\d{1,30}$/);
    if (h.modifiedMs !== undefined) assert.ok(Number.isSafeInteger(h.modifiedMs) && h.modifiedMs > 0);
    const doc = `<consumptionhorizon><id>${id}</id><user>${user}</user><horizon>${value}</horizon></consumptionhorizon>`;
    const body = Buffer.from(wrap ? `Routing: 1.0\r\n\r\nNotification: 1.0\r\n\r\n${doc}` : doc);
    const ev = onlyTypedErrors(
      () => parseHorizonNotification(body, self),
      (e) => e instanceof ProtocolParseError,
    );
    if (ev) {
      assert.ok(ev.conversation !== "" && ev.user !== "");
      assert.equal(ev.fromMe, self.isMe(ev.user));
    }
  },
});

export const quoteTargets: SomeTarget[] = [roundTrip, anyBody, horizons];
