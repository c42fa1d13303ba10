// SPDX-License-Identifier: Apache-2.0
/**
 * The ABCH address-book client (PROFILE §4, REFERENCE §12): incoming requests, blocked contacts,
 * accept/decline/block/unblock and contact requests. It echoes the CacheKey once the server says it
 * changed (one key per service), follows PreferredHostName for later calls of the same operation, maps
 * faults to SoapFaultError and, on PassportAuthFail, renews the token once and retries.
 */
import { ProtocolParseError, SkypeErrorCode, SoapFaultError } from "../errors.js";
import { httpRequest, unexpectedStatus, type HttpOptions } from "../http.js";
import { redactText } from "../../util/redact.js";
import { silentLogger, type SkypeLogger } from "../log.js";
import { endpointUrl, toPassportName, type SkypeEndpoints } from "../model.js";
import { TokenScope, type TokenSource } from "../tokens.js";
import { DEFAULT_MAX_XML_BYTES, type XmlValue } from "../xml.js";
import {
  abContactAddBody,
  buildEnvelope,
  findAllBlockedContactsBody,
  findMembershipByRoleBody,
  memberBody,
  OPERATION_SERVICE,
  PARTNER_SCENARIO,
  SERVICE_PATH,
  soapAction,
  type AbOperation,
  type AbService,
  type MemberRole,
} from "./envelope.js";
import {
  parseBlockedContacts,
  parseContactAddGuid,
  parsePendingRequests,
  parseSoapResponse,
  type BlockedContact,
  type PendingRequest,
  type ServiceHeader,
} from "./parse.js";

/** What the bridge may persist between runs (no secrets). */
export interface AddressBookState {
  cacheKeys: Partial<Record<AbService, string>>;
  preferredHosts: Partial<Record<AbOperation, string>>;
}

export interface AddressBookOptions extends HttpOptions {
  state?: AddressBookState;
  /** Largest answer accepted (bytes); larger ones are refused before parsing. Default 4 MiB. */
  maxXmlBytes?: number;
}

const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::\d{1,5})?$/;

export class AddressBookClient {
  private readonly state: AddressBookState;
  private readonly log: SkypeLogger;
  /** The options without the saved state (copied into {@link state}; the caller's object is not kept). */
  private readonly opts: Omit<AddressBookOptions, "state">;

  constructor(
    private readonly endpoints: Pick<SkypeEndpoints, "abch">,
    private readonly tokens: TokenSource,
    opts: AddressBookOptions = {},
  ) {
    const { state, ...rest } = opts;
    this.opts = rest;
    this.log = opts.logger ?? silentLogger;
    this.state = {
      cacheKeys: { ...state?.cacheKeys },
      preferredHosts: { ...state?.preferredHosts },
    };
  }

  /** The CacheKeys and preferred hosts learnt so far (JSON-serialisable, no secrets). */
  exportState(): AddressBookState {
    return { cacheKeys: { ...this.state.cacheKeys }, preferredHosts: { ...this.state.preferredHosts } };
  }

  /** Incoming contact requests (`FindMembershipByRole`, role `Pending`). */
  async findPendingRequests(signal?: AbortSignal): Promise<PendingRequest[]> {
    const body = await this.call("FindMembershipByRole", findMembershipByRoleBody(["Pending"]), signal);
    return parsePendingRequests(body);
  }

  /** People this account blocked (`FindAllBlockedContacts`). */
  async findBlockedContacts(signal?: AbortSignal): Promise<BlockedContact[]> {
    const body = await this.call("FindAllBlockedContacts", findAllBlockedContactsBody(), signal);
    return parseBlockedContacts(body);
  }

  /** Accepts an incoming request (`AddMember` Allow). `who`: e-mail, Skype name or MRI. */
  acceptRequest(who: string, signal?: AbortSignal): Promise<void> {
    return this.addMember("Allow", who, signal);
  }

  /** Declines an incoming request (`DeleteMember` Pending). */
  declineRequest(who: string, signal?: AbortSignal): Promise<void> {
    return this.deleteMember("Pending", who, signal);
  }

  /** Blocks a person (`AddMember` Block). */
  block(who: string, signal?: AbortSignal): Promise<void> {
    return this.addMember("Block", who, signal);
  }

  /** Unblocks a person (`DeleteMember` Block). */
  unblock(who: string, signal?: AbortSignal): Promise<void> {
    return this.deleteMember("Block", who, signal);
  }

  /** Removes a contact (`DeleteMember` Allow). */
  removeContact(who: string, signal?: AbortSignal): Promise<void> {
    return this.deleteMember("Allow", who, signal);
  }

  /** `AddMember` on `role`. @throws SoapFaultError (`MemberAlreadyExists`, …). */
  async addMember(role: MemberRole, who: string, signal?: AbortSignal): Promise<void> {
    await this.call("AddMember", memberBody("AddMember", role, toPassportName(who)), signal);
  }

  /** `DeleteMember` on `role`. @throws SoapFaultError (`MemberDoesNotExist`, …). */
  async deleteMember(role: MemberRole, who: string, signal?: AbortSignal): Promise<void> {
    await this.call("DeleteMember", memberBody("DeleteMember", role, toPassportName(who)), signal);
  }

  /**
   * Sends a contact request (`ABContactAdd`). Returns the new contact's guid ("" if none was sent).
   * @throws SoapFaultError (`ContactAlreadyExists`, …).
   */
  async sendContactRequest(
    who: string,
    opts: { message?: string; ownDisplayName?: string; signal?: AbortSignal } = {},
  ): Promise<string> {
    const body = await this.call(
      "ABContactAdd",
      abContactAddBody(toPassportName(who), opts.message, opts.ownDisplayName),
      opts.signal,
    );
    return parseContactAddGuid(body);
  }

  private urlFor(op: AbOperation): string {
    const path = SERVICE_PATH[OPERATION_SERVICE[op]];
    const url = new URL(endpointUrl(this.endpoints.abch, path));
    const preferred = this.state.preferredHosts[op];
    if (preferred) {
      if (preferred.includes(":")) url.host = preferred;
      else url.hostname = preferred;
    }
    return url.toString();
  }

  private applyHeader(op: AbOperation, header: ServiceHeader): void {
    const service = OPERATION_SERVICE[op];
    if (header.cacheKeyChanged && header.cacheKey) this.state.cacheKeys[service] = header.cacheKey;
    const host = header.preferredHostName;
    if (host && HOST_RE.test(host) && host !== this.state.preferredHosts[op]) {
      this.state.preferredHosts[op] = host;
      this.log.debug("address book: following PreferredHostName", { op, host });
    }
  }

  /** Sends one operation; returns the SOAP body. Renews the token and retries once on PassportAuthFail. */
  private async call(op: AbOperation, body: string, signal?: AbortSignal): Promise<XmlValue | undefined> {
    const service = OPERATION_SERVICE[op];
    const maxBytes = this.opts.maxXmlBytes ?? DEFAULT_MAX_XML_BYTES;
    for (let attempt = 0; ; attempt++) {
      const ticketToken = await this.tokens.getToken(TokenScope.Contacts, {
        signal,
        forceRefresh: attempt > 0,
      });
      const envelope = buildEnvelope(
        { partnerScenario: PARTNER_SCENARIO[op], ticketToken, cacheKey: this.state.cacheKeys[service] },
        body,
      );
      const res = await httpRequest(this.opts, {
        method: "POST",
        url: this.urlFor(op),
        what: `ABCH ${op}`,
        headers: { "content-type": "text/xml; charset=utf-8", soapaction: soapAction(op) },
        body: envelope,
        signal,
        maxResponseBytes: maxBytes,
        tooLargeCode: SkypeErrorCode.UnsafeXml,
      });
      if (res.body.length === 0 || !looksLikeXml(res.body)) {
        if (res.status !== 200) throw unexpectedStatus(`ABCH ${op}`, res.status);
        if (res.body.length === 0) return undefined;
        throw new ProtocolParseError(SkypeErrorCode.Parse, `ABCH ${op}: the answer is not XML`);
      }
      const parsed = parseSoapResponse(res.body, { maxBytes });
      this.applyHeader(op, parsed.header);
      const fault = parsed.fault;
      if (fault) {
        if (fault.code === "PassportAuthFail" && attempt === 0) {
          this.log.info("address book refused the ticket; renewing it", { op });
          this.tokens.invalidate(TokenScope.Contacts);
          continue;
        }
        const detail = fault.faultString ? `: ${shorten(fault.faultString)}` : "";
        throw new SoapFaultError(fault.code, `address book ${op} failed with ${fault.code}${detail}`);
      }
      if (res.status !== 200) throw unexpectedStatus(`ABCH ${op}`, res.status);
      return parsed.body;
    }
  }
}

function looksLikeXml(body: Buffer): boolean {
  const head = body
    .subarray(0, 64)
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart();
  return head.startsWith("<");
}

function shorten(text: string): string {
  const clean = redactText(text).replace(/\s+/g, " ").trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
