// SPDX-License-Identifier: Apache-2.0
/**
 * Links generated Skype accounts to Matrix users straight through the bridge's store, writing what
 * a finished login writes (SkypeSessionManager.saveLink): the user row with the account, both own
 * identities and an endpoint id, the refresh token encrypted under the bridge's key, and the
 * display name the session manager reads back at start (`meta` key `sessions.display_name|<mxid>`).
 * Run it while no bridge has the file open.
 */
import { randomUUID } from "node:crypto";
import type { GeneratedAccount } from "../../refserver/generate.js";
import { openStore } from "../../src/store/index.js";

export interface LinkedAccount {
  mxid: string;
  account: GeneratedAccount;
}

/** Writes the links in transactions of 500; returns how long it took (ms). */
export function linkThroughStore(dbPath: string, key: string, links: readonly LinkedAccount[]): number {
  const t0 = performance.now();
  const store = openStore({ path: dbPath, key });
  try {
    for (let i = 0; i < links.length; i += 500) {
      store.transaction(() => {
        for (const { mxid, account } of links.slice(i, i + 500)) {
          store.users.upsert(mxid, {
            accountEmail: account.email,
            skypeName: account.skypename,
            liveMri: account.identities[0],
            skypeMri: account.identities[1],
            epid: randomUUID(),
            loginState: "connecting",
            stateDetail: null,
          });
          store.users.setRefreshToken(mxid, account.refreshToken);
          store.meta.set(`sessions.display_name|${mxid}`, account.displayName);
        }
      });
    }
  } finally {
    store.close();
  }
  return performance.now() - t0;
}
