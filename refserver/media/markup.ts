// SPDX-License-Identifier: Apache-2.0
/**
 * Message bodies of PROFILE §7.3 (URIObject for images and files) and §7.4 (quotes), built exactly
 * as the profile writes them. Every attribute value and text is XML-escaped.
 */
import { escapeXml } from "../msnp/xml.js";

/** `Message-Type` of each kind (§7.3). */
export const URIOBJECT_MESSAGE_TYPE = {
  image: "RichText/UriObject",
  file: "RichText/Media_GenericFile",
} as const;

/** The URIObject body of an image (`Picture.1`) or a file (`File.1`) message. */
export function uriObjectXml(spec: {
  kind: "image" | "file";
  /** `{ams}`, without a trailing slash. */
  amsBase: string;
  id: string;
  name: string;
  size: number;
}): string {
  const e = escapeXml;
  const uri = `${spec.amsBase}/v1/objects/${spec.id}`;
  const name = e(spec.name);
  if (spec.kind === "image") {
    const link = `https://login.skype.com/login/sso?go=xmmfallback?pic=${spec.id}`;
    return (
      `<URIObject type="Picture.1" uri="${e(uri)}" url_thumbnail="${e(`${uri}/views/imgt1`)}">` +
      `To view this shared photo, go to: <a href="${e(link)}">${e(link)}</a>` +
      `<OriginalName v="${name}"/><FileSize v="${spec.size}"/>` +
      `<meta type="photo" originalName="${name}"/></URIObject>`
    );
  }
  const link = `https://login.skype.com/login/sso?go=webclient.xmm&docid=${spec.id}`;
  return (
    `<URIObject type="File.1" uri="${e(uri)}" url_thumbnail="${e(`${uri}/views/thumbnail`)}">` +
    `<Title>Title: ${name}</Title><Description> Description: ${name}</Description>` +
    `<a href="${e(link)}">${e(link)}</a>` +
    `<OriginalName v="${name}"/><FileSize v="${spec.size}"/></URIObject>`
  );
}

/** `[2026-12-04 23:45:20]`: the quoted message's time as text, for `legacyquote` (UTC). */
export function legacyTimestamp(ms: number): string {
  return `[${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}]`;
}

/**
 * A §7.4 quote followed by the reply: `quotedRichText` and `replyRichText` are Skype rich text
 * (already escaped); `author`, `authorName`, `conversation` are escaped here.
 */
export function quoteXml(spec: {
  author: string;
  authorName: string;
  /** ms since the epoch of the quoted message. */
  arrival: number;
  conversation: string;
  messageId: number;
  quotedRichText: string;
  replyRichText: string;
}): string {
  const e = escapeXml;
  return (
    `<quote author="${e(spec.author)}" authorname="${e(spec.authorName)}" ` +
    `timestamp="${Math.floor(spec.arrival / 1000)}" conversation="${e(spec.conversation)}" ` +
    `messageid="${spec.messageId}">` +
    `<legacyquote>${e(legacyTimestamp(spec.arrival))} ${e(spec.authorName)}: </legacyquote>` +
    spec.quotedRichText +
    `<legacyquote>\r\n\r\n&lt;&lt;&lt; </legacyquote></quote>` +
    spec.replyRichText
  );
}
