// SPDX-License-Identifier: Apache-2.0
/**
 * SOAP 1.1 envelopes and faults of the ABCH address book (REFERENCE §12.1): namespace
 * `http://www.msn.com/webservices/AddressBook`, a `ServiceHeader` on replies, faults with
 * `detail/errorcode` in the AB namespace.
 */
import type { Person, World } from "../world.js";
import { xmlEscape, type Reply } from "./http-util.js";
import type { HttpServerOptions } from "./options.js";
import type { XmlNode } from "./safe-xml.js";

export const AB_NS = "http://www.msn.com/webservices/AddressBook";
const SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/";
const XSI_NS = "http://www.w3.org/2001/XMLSchema-instance";
const XSD_NS = "http://www.w3.org/2001/XMLSchema";

/** `<name>text</name>` with the text escaped. */
export function tx(name: string, text: string | number | boolean): string {
  const s = String(text);
  return s === "" ? `<${name}/>` : `<${name}>${xmlEscape(s)}</${name}>`;
}

/** `<name>inner</name>` with `inner` already XML. */
export function el(name: string, ...inner: string[]): string {
  const s = inner.join("");
  return s === "" ? `<${name}/>` : `<${name}>${s}</${name}>`;
}

/** The reply `ServiceHeader` fields. */
export interface ServiceHeader {
  cacheKey?: string;
  cacheKeyChanged: boolean;
  preferredHostName?: string;
  sessionId: string;
}

function envelope(header: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<soap:Envelope xmlns:soap="${SOAP_NS}" xmlns:xsi="${XSI_NS}" xmlns:xsd="${XSD_NS}">` +
    (header ? `<soap:Header>${header}</soap:Header>` : "") +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

const XML_HEADERS = { "content-type": "text/xml; charset=utf-8", "cache-control": "no-store" };

/** A successful reply: `<{op}Response xmlns=AB>{result}</{op}Response>` under a `ServiceHeader`. */
export function soapReply(op: string, result: string, h: ServiceHeader): Reply {
  const header =
    `<ServiceHeader xmlns="${AB_NS}">` +
    tx("Version", "15.01.1408.0000") +
    (h.cacheKey !== undefined ? tx("CacheKey", h.cacheKey) : "") +
    tx("CacheKeyChanged", h.cacheKeyChanged) +
    (h.preferredHostName !== undefined ? tx("PreferredHostName", h.preferredHostName) : "") +
    tx("SessionId", h.sessionId) +
    `</ServiceHeader>`;
  const body = `<${op}Response xmlns="${AB_NS}">${result}</${op}Response>`;
  return { status: 200, headers: XML_HEADERS, body: envelope(header, body) };
}

/**
 * A SOAP fault: `soap:Client` with `detail/errorcode` = `code`. HTTP 500 as SOAP 1.1 wants, or
 * the given status (400 for documents refused before parsing).
 */
export function soapFault(code: string, message: string, status = 500): Reply {
  const body =
    `<soap:Fault>` +
    tx("faultcode", "soap:Client") +
    tx("faultstring", message) +
    tx("faultactor", "http://www.msn.com/webservices/AddressBook") +
    `<detail>` +
    `<errorcode xmlns="${AB_NS}">${xmlEscape(code)}</errorcode>` +
    `<errorstring xmlns="${AB_NS}">${xmlEscape(message)}</errorstring>` +
    `<machineName xmlns="${AB_NS}">REFSERVER</machineName>` +
    `</detail></soap:Fault>`;
  return { status, headers: XML_HEADERS, body: envelope("", body) };
}

/** What an ABCH operation is given; it returns the inside of `<{op}Response>` or throws `AbFault`. */
export interface AbOpArgs {
  readonly world: World;
  /** The signed-in account (from the TicketToken). */
  readonly owner: Person;
  /** The operation element of the request body. */
  readonly body: XmlNode;
  readonly options: HttpServerOptions;
  note(details: Record<string, unknown>): void;
}

export type AbOp = (a: AbOpArgs) => string;

/** ISO time for `LastChange`-like fields. */
export function abTime(ms: number): string {
  return new Date(ms).toISOString();
}
