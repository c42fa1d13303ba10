// SPDX-License-Identifier: Apache-2.0
/**
 * matrix-appservice-bridge's `PrometheusMetrics` on the bridge's registry: `bridge_app_version`,
 * Node's process metrics, the bot-sdk's `bridge_matrix_api_calls(_failed)` and the library's bridge
 * gauges (`bridge_matrix_configured_rooms`, `bridge_remote_configured_rooms`, `bridge_matrix_ghosts`,
 * `bridge_remote_ghosts`), fed from the store.
 *
 * Two bugs of matrix-appservice-bridge 10.3.3 are worked around here:
 * - `PrometheusMetrics.registerBridgeGauges` (lib/components/prometheusmetrics.js) sets a gauge
 *   only `if (counts.x)`: a count that drops to 0 is skipped and the gauge keeps its old value. Our
 *   counter function therefore sets the four gauges itself, zeros included, before the library
 *   looks at them.
 * - `Bridge.registerBridgeGauges` (lib/bridge.js) replaces a `matrixGhosts` we supply with
 *   `Object.keys(this.intents.size).length` — the keys of a number, always 0 — and supplies nothing
 *   when we do not. So we call `PrometheusMetrics.registerBridgeGauges` directly, with our own
 *   count of puppets.
 */
import type { Bridge as LibBridge, BridgeGaugesCounts, PrometheusMetrics } from "matrix-appservice-bridge";
import type { Gauge } from "prom-client";
import type { BridgeMetrics, MetricsSources } from "./registry.js";

type Counts = Required<
  Pick<BridgeGaugesCounts, "matrixRoomConfigs" | "remoteRoomConfigs" | "matrixGhosts" | "remoteGhosts">
>;

const GAUGE_NAMES: Record<keyof Counts, string> = {
  matrixRoomConfigs: "bridge_matrix_configured_rooms",
  remoteRoomConfigs: "bridge_remote_configured_rooms",
  matrixGhosts: "bridge_matrix_ghosts",
  remoteGhosts: "bridge_remote_ghosts",
};

/**
 * Portals (each is one Matrix room and one Skype conversation), the puppets of DM partners and
 * contacts (as `admin status` counts them), and the Skype accounts the bridge runs. A DM portal's
 * person has a puppet (it created the room), so only contacts without a DM are looked up.
 */
export function bridgeCounts(src: MetricsSources): Counts {
  const { store } = src;
  const sessions = src.sessions.all();
  const persons = new Set<string>();
  let rooms = 0;
  for (const user of store.users.list()) {
    for (const portal of store.portals.listByReceiver(user.mxid)) {
      rooms++;
      if (portal.kind === "dm") persons.add(portal.conversation);
    }
  }
  for (const session of sessions) {
    for (const contact of session.contacts()) {
      const person = store.persons.getByIdentity(contact.identities[0] ?? "");
      if (person && !persons.has(person.id) && store.puppets.get(person.id)) persons.add(person.id);
    }
  }
  return {
    matrixRoomConfigs: rooms,
    remoteRoomConfigs: rooms,
    matrixGhosts: persons.size,
    remoteGhosts: sessions.length,
  };
}

/**
 * Creates the library's metrics on `metrics.registry` (after the appservice listens: the library
 * then registers the bot-sdk's call counters, and with `onAppservicePort` its `GET /metrics`).
 */
export function libraryMetrics(
  lib: LibBridge,
  metrics: BridgeMetrics,
  src: MetricsSources,
  onAppservicePort: boolean,
): PrometheusMetrics {
  const prom = lib.getPrometheusMetrics(onAppservicePort, metrics.registry);
  // Synchronous in fact (an async function without an await): the gauges exist once it returns.
  void prom.registerBridgeGauges(() => {
    const counts = bridgeCounts(src);
    for (const key of Object.keys(GAUGE_NAMES) as (keyof Counts)[]) {
      (metrics.registry.getSingleMetric(GAUGE_NAMES[key]) as Gauge | undefined)?.set(counts[key]);
    }
    return counts;
  });
  return prom;
}
