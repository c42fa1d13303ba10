// SPDX-License-Identifier: Apache-2.0
/**
 * XML payloads of the MSNP24 login and MSGR commands (PROFILE §3, REFERENCE §4.3.2, §5.2, §6).
 * Every caller-supplied value is XML-escaped.
 */
import { escapeXml as esc } from "../xml.js";
import { SKYPE_PRODUCT_ID } from "./cs64.js";
import { bareMri } from "./identity.js";

/** The client version string Skype desktop 6.16 sent (REFERENCE §4.3.2). */
export const CLIENT_VERSION = "0/6.16.0.105/259/";

/** `CNT` body. Without a redirect state this is the 112-byte document of REFERENCE §3.2. */
export function connectXml(xfrState?: string): string {
  const xfr = xfrState !== undefined ? `<xfr><state>${esc(xfrState)}</state></xfr>` : "";
  return (
    `<connect>${xfr}<ver>2</ver><agent><os>winnt</os><osVer>5.2</osVer><proc>x86</proc>` +
    `<lcid>en-us</lcid></agent></connect>`
  );
}

/** `ATH CON\USER` body for a Microsoft account, Skype-desktop style (PROFILE §3). */
export function userXml(ticket: string, uic: string, email: string, skypename: string): string {
  return (
    `<user><ssl-compact-ticket>t=${esc(ticket)}</ssl-compact-ticket><uic>${esc(uic)}</uic>` +
    `<id>${esc(email)}</id><alias>${esc(skypename)}</alias></user>`
  );
}

/** `BND CON\MSGR` body; the epid is sent without braces. */
export function msgrXml(epid: string): string {
  return (
    `<msgr><ver>2</ver><altVersions><ver>1</ver></altVersions><client><name>Skype</name>` +
    `<ver>${CLIENT_VERSION}</ver></client><epid>${esc(epid)}</epid></msgr>`
  );
}

/** `PUT MSGR\CHALLENGE` body. */
export function challengeXml(response: string): string {
  return `<challenge><appId>${esc(SKYPE_PRODUCT_ID)}</appId><response>${esc(response)}</response></challenge>`;
}

const SERVICES_8 = `<s l="3" n="PE"/><s l="3" n="IM"/><s l="3" n="SKP"/><s l="3" n="PUB"/>`;

/** `PUT MSGR\CONTACTS` body: Skype names in `<skp>`, Microsoft accounts per domain. */
export function contactsXml(mris: readonly string[]): string {
  const skp: string[] = [];
  const domains = new Map<string, string[]>();
  for (const m of mris) {
    const id = bareMri(m);
    if (id.startsWith("8:") && id.length > 2) skp.push(`<c n="${esc(id.slice(2))}" t="8">${SERVICES_8}</c>`);
    else if (id.startsWith("1:")) {
      const addr = id.slice(2);
      const at = addr.lastIndexOf("@");
      if (at <= 0) continue;
      const d = addr.slice(at + 1).toLowerCase();
      const list = domains.get(d) ?? [];
      list.push(`<c n="${esc(addr.slice(0, at))}" t="1"><s l="3" n="IM"/></c>`);
      domains.set(d, list);
    }
  }
  const skpXml = skp.length ? `<skp>${skp.join("")}</skp>` : "";
  const dXml = [...domains].map(([d, cs]) => `<d n="${esc(d)}">${cs.join("")}</d>`).join("");
  return `<ml l="1">${skpXml}${dXml}</ml>`;
}

/** `PUT MSGR\SUBSCRIPTIONS` body: presence, IM and the ABCH partner. */
export function subscriptionsXml(): string {
  return (
    `<subscribe><presence><buddies><all /></buddies></presence>` +
    `<messaging><im /><conversations /></messaging>` +
    `<notifications><partners><partner>ABCH</partner></partners></notifications></subscribe>`
  );
}

/** `GET MSGR\RECENTCONVERSATIONS` body. */
export function recentConversationsXml(start = "0", pageSize = 100): string {
  return `<recentconversations><start>${esc(start)}</start><pagesize>${pageSize}</pagesize></recentconversations>`;
}

/** `GET MSGR\MESSAGESBYCONVERSATION` body. */
export function messagesByConversationXml(
  id: string,
  start: string,
  syncState?: string,
  pageSize = 100,
): string {
  const sync = syncState !== undefined ? `<messagessyncstate>${esc(syncState)}</messagessyncstate>` : "";
  return (
    `<messagesbyconversation><id>${esc(id)}</id><start>${esc(start)}</start>${sync}` +
    `<pagesize>${pageSize}</pagesize></messagesbyconversation>`
  );
}

/** A thread member with a role. */
export interface ThreadMemberSpec {
  mri: string;
  role?: "admin" | "user";
}

function membersXml(members: readonly ThreadMemberSpec[]): string {
  return (
    `<members>` +
    members
      .map(
        (m) => `<member><mri>${esc(bareMri(m.mri))}</mri>${m.role ? `<role>${m.role}</role>` : ""}</member>`,
      )
      .join("") +
    `</members>`
  );
}

/** `PUT MSGR\THREAD` creating a thread (empty id). */
export function threadCreateXml(members: readonly ThreadMemberSpec[], topic?: string): string {
  const props = topic !== undefined ? `<properties><topic>${esc(topic)}</topic></properties>` : "";
  return `<thread><id></id>${membersXml(members)}${props}</thread>`;
}

/** `PUT MSGR\THREAD` adding members or changing roles, or `DEL MSGR\THREAD` removing them. */
export function threadMembersXml(threadId: string, members: readonly ThreadMemberSpec[]): string {
  return `<thread><id>${esc(threadId)}</id>${membersXml(members)}</thread>`;
}

/** `PUT MSGR\THREAD` changing the topic. */
export function threadTopicXml(threadId: string, topic: string): string {
  return `<thread><id>${esc(threadId)}</id><properties><topic>${esc(topic)}</topic></properties></thread>`;
}

/** `GET MSGR\THREADS` body. */
export function threadsXml(ids: readonly string[]): string {
  return `<threads>${ids.map((id) => `<thread><id>${esc(id)}</id></thread>`).join("")}</threads>`;
}

/** Own presence document for `PUT MSGR\PRESENCE` (REFERENCE §6). */
export function presenceUserXml(epid: string, status: string, mood: string, skypename: string): string {
  const e = esc(`{${epid}}`);
  return (
    `<user><s n="IM"><Status>${esc(status)}</Status></s>` +
    `<sep n="PE" epid="${e}"><VER>${CLIENT_VERSION}</VER><TYP>11</TYP><Capabilities>0:0</Capabilities></sep>` +
    `<sep n="IM" epid="${e}"><Capabilities>0:0</Capabilities></sep>` +
    `<sep n="PD" epid="${e}"><EpName>bridge</EpName><ClientType>11</ClientType></sep>` +
    `<s n="SKP"><Mood>${esc(mood)}</Mood><Skypename>${esc(skypename)}</Skypename></s>` +
    `<sep n="SKP" epid="${e}"><NodeInfo></NodeInfo><Version>24</Version><Seamless>true</Seamless></sep></user>`
  );
}
