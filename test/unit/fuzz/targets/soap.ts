// SPDX-License-Identifier: Apache-2.0
/**
 * Fuzz targets of the address book's SOAP answers, through the public parse functions
 * (src/skype/soap/parse.ts, over src/skype/xml.ts).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { SkypeError, SkypeErrorCode } from "../../../../src/skype/errors.js";
import { toMri } from "../../../../src/skype/model.js";
import {
  parseBlockedContacts,
  parseContactAddGuid,
  parsePendingRequests,
  parseSoapResponse,
  type SoapResponse,
} from "../../../../src/skype/soap/parse.js";
import { escapeXml } from "../../../../src/skype/xml.js";
import { defineTarget, type SomeTarget } from "../harness.js";

const NS = "http://www.msn.com/webservices/AddressBook";

function envelope(header: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
    `<soap:Header>${header}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

/** The parse functions' only permitted failure: a typed SkypeError (Parse, UnsafeXml, …). */
function skypeError(e: unknown): boolean {
  return e instanceof SkypeError && Object.values(SkypeErrorCode).includes(e.code);
}

/** Parses and reads everything the client reads; only typed errors may escape. */
function parseAll(doc: string | Uint8Array, opts?: { maxBytes?: number }): SoapResponse | undefined {
  let r: SoapResponse;
  try {
    r = parseSoapResponse(doc, opts);
  } catch (e) {
    if (!skypeError(e)) throw e;
    return undefined;
  }
  for (const read of [parsePendingRequests, parseBlockedContacts, parseContactAddGuid]) {
    try {
      read(r.body);
    } catch (e) {
      if (!skypeError(e)) throw e;
    }
  }
  return r;
}

const PIECES = [
  "<soap:Envelope xmlns:soap='s'>",
  "</soap:Envelope>",
  "<soap:Body>",
  "</soap:Body>",
  "<soap:Header>",
  "</soap:Header>",
  "<soap:Fault><faultcode>soap:Client</faultcode><detail><errorcode>X</errorcode></detail></soap:Fault>",
  "<FindMembershipByRoleResponse>",
  "<FindMembershipByRoleResult>",
  "<Services><Service><Memberships><Membership><MemberRole>Pending</MemberRole><Members>",
  "<Member><PassportName>a@b.c</PassportName><DisplayName>A</DisplayName></Member>",
  "<Member><Email>x</Email></Member>",
  "<Member><PassportName> </PassportName></Member>",
  "<Member><PassportName>1:</PassportName></Member>",
  "<Member><PassportName>8:</PassportName></Member>",
  "<Member><PassportName>:::</PassportName></Member>",
  "</Members></Membership></Memberships></Service></Services>",
  "<FindAllBlockedContactsResponse><FindAllBlockedContactsResult>",
  "<BlockedContact><Mri>8:x</Mri></BlockedContact>",
  "<BlockedContact><Mri>19:</Mri></BlockedContact>",
  "<ABContactAddResponse><ABContactAddResult><guid>g</guid>",
  "<__proto__>",
  "</__proto__>",
  "<constructor>x</constructor>",
  "<a __proto__='1' constructor='2'>",
  "<![CDATA[<b>&amp;</b>]]>",
  "<!-- c -->",
  "<?pi x?>",
  "<!DOCTYPE x>",
  '<!ENTITY e "v">',
  "&amp;",
  "&#0;",
  "&#x1F600;",
  "&lt;",
  "&unknown;",
  "&",
  "<",
  ">",
  '"',
  "\u0000",
  "\ud800",
  "\ufeff",
  "text",
  " ",
  "\n",
];

const soup = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((a) => a.join("")),
  fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((a) => envelope("", a.join(""))),
);

const anyText = defineTarget<string>({
  name: "soap: arbitrary answers parse or fail with a typed error",
  arbitrary: soup,
  check(doc) {
    parseAll(doc);
    parseAll(Buffer.from(doc, "utf8"));
  },
});

/** Text people put in names and invitations; XML-special characters included. */
const personText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.constantFrom("", "  ", "<Dave> & co", "a'b\"c", "]]>", "&amp;", "\t x \n", "Zoë 李 😀"),
);
const skypeName = fc.stringMatching(/^(live:)?[a-z][a-z0-9._-]{0,15}$/);
const member = fc.record({
  name: skypeName,
  display: personText,
  message: personText,
  deleted: fc.boolean(),
});

const pendingRoundTrip = defineTarget<{
  members: { name: string; display: string; message: string; deleted: boolean }[];
  blocked: { name: string; display: string }[];
}>({
  name: "soap: pending requests and blocked contacts read back what the server wrote",
  arbitrary: fc.record({
    members: fc.array(member, { maxLength: 5 }),
    blocked: fc.array(fc.record({ name: skypeName, display: personText }), { maxLength: 5 }),
  }),
  check({ members, blocked }) {
    const membersXml = members
      .map(
        (m) =>
          `<Member><PassportName>${escapeXml(m.name)}</PassportName>` +
          `<DisplayName>${escapeXml(m.display)}</DisplayName><Deleted>${m.deleted}</Deleted>` +
          `<Annotations><Annotation><Name>MSN.IM.InviteMessage</Name><Value>${escapeXml(m.message)}</Value>` +
          `</Annotation></Annotations></Member>`,
      )
      .join("");
    const pending = parseSoapResponse(
      envelope(
        "",
        `<FindMembershipByRoleResponse xmlns="${NS}"><FindMembershipByRoleResult><Services><Service>` +
          `<Memberships><Membership><MemberRole>Pending</MemberRole><Members>${membersXml}</Members>` +
          `</Membership></Memberships></Service></Services></FindMembershipByRoleResult></FindMembershipByRoleResponse>`,
      ),
    );
    const fallback = (mri: string) => mri.replace(/^\d+:/, "");
    assert.deepEqual(
      parsePendingRequests(pending.body),
      members
        .filter((m) => !m.deleted)
        .map((m) => {
          const mri = toMri(m.name);
          return { mri, displayName: m.display.trim() || fallback(mri), message: m.message.trim() };
        }),
    );
    const blockedXml = blocked
      .map(
        (b) =>
          `<BlockedContact><Mri>${escapeXml(b.name)}</Mri><DisplayName>${escapeXml(b.display)}</DisplayName></BlockedContact>`,
      )
      .join("");
    const answer = parseSoapResponse(
      envelope(
        "",
        `<FindAllBlockedContactsResponse xmlns="${NS}"><FindAllBlockedContactsResult>${blockedXml}` +
          `</FindAllBlockedContactsResult></FindAllBlockedContactsResponse>`,
      ),
    );
    assert.deepEqual(
      parseBlockedContacts(answer.body),
      blocked.map((b) => {
        const mri = toMri(b.name);
        return { mri, displayName: b.display.trim() || fallback(mri) };
      }),
    );
  },
});

/** What a lying server puts in front of or inside a valid answer. */
const HOSTILE: Record<string, (n: number) => string> = {
  doctype: () => "<!DOCTYPE soap:Envelope>",
  entity: () => `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>`,
  laughs: (n) =>
    `<!DOCTYPE x [<!ENTITY l0 "lol">${Array.from({ length: n }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("")}]>`,
  xxe: () => `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>`,
  parameter: () => `<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>`,
  lowercase: () => `<!doctype x [<!entity e "v">]>`,
};

const hostile = defineTarget<{ kind: string; n: number; where: number; depth: number }>({
  name: "soap: DOCTYPE, entities and deep nesting are refused as UnsafeXml",
  arbitrary: fc.record({
    kind: fc.constantFrom(...Object.keys(HOSTILE), "deep"),
    n: fc.integer({ min: 1, max: 12 }),
    where: fc.nat(),
    depth: fc.integer({ min: 65, max: 400 }),
  }),
  check({ kind, n, where, depth }) {
    const body =
      kind === "deep"
        ? "<x>".repeat(depth) + "&l9;" + "</x>".repeat(depth)
        : `<FindAllBlockedContactsResponse><FindAllBlockedContactsResult><BlockedContact><Mri>&l${n};</Mri>` +
          `</BlockedContact></FindAllBlockedContactsResult></FindAllBlockedContactsResponse>`;
    const doc = envelope("", body);
    // The declaration goes before the root or anywhere inside it: both are refused.
    const at = kind === "deep" ? 0 : [0, doc.indexOf("<soap:Body>"), doc.indexOf("<Mri>")][where % 3]!;
    const text = kind === "deep" ? doc : doc.slice(0, at) + HOSTILE[kind]!(n) + doc.slice(at);
    assert.throws(
      () => parseSoapResponse(text),
      (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.UnsafeXml,
    );
  },
});

const oversize = defineTarget<{ size: number; limit: number }>({
  name: "soap: answers over the byte limit are refused before parsing",
  arbitrary: fc.record({
    size: fc.integer({ min: 0, max: 20_000 }),
    limit: fc.integer({ min: 64, max: 10_000 }),
  }),
  check({ size, limit }) {
    const doc = envelope("", `<x>${"é".repeat(size)}</x>`);
    const bytes = Buffer.byteLength(doc);
    if (bytes <= limit) {
      assert.ok(parseAll(doc, { maxBytes: limit }));
    } else {
      assert.throws(
        () => parseSoapResponse(doc, { maxBytes: limit }),
        (e: unknown) => e instanceof SkypeError && e.code === SkypeErrorCode.UnsafeXml,
      );
    }
  },
});

export const soapTargets: SomeTarget[] = [anyText, pendingRoundTrip, hostile, oversize];
