// SPDX-License-Identifier: Apache-2.0
/** Small helpers of the client: the default transport and error classification. */
import * as net from "node:net";
import * as tls from "node:tls";
import { MsnpError, SkypeError, SkypeErrorCode } from "../errors.js";
import type { MsnpConnect, MsnpTarget } from "./types.js";

/** node:net or node:tls; Nagle off, since every SDG is followed by a small PNG awaiting its reply. */
export const defaultConnect: MsnpConnect = (t: MsnpTarget) => {
  const socket = t.tls
    ? tls.connect({
        host: t.host,
        port: t.port,
        servername: t.host,
        ...(t.ca ? { ca: [...tls.rootCertificates, t.ca.toString()] } : {}),
      })
    : net.connect({ host: t.host, port: t.port });
  socket.setNoDelay(true);
  return socket;
};

/** Any thrown value as a SkypeError (unknown failures become retryable network errors). */
export function asSkypeError(e: unknown): SkypeError {
  if (e instanceof SkypeError) return e;
  return new SkypeError(
    SkypeErrorCode.Network,
    `unexpected failure: ${e instanceof Error ? e.message : String(e)}`,
    true,
    {
      cause: e,
    },
  );
}

/** 911 from the server, or `SKYPE_BAD_CREDENTIALS` from the credentials. */
export function isBadCredentials(e: SkypeError): boolean {
  return e.code === SkypeErrorCode.BadCredentials || (e instanceof MsnpError && e.msnpCode === 911);
}
