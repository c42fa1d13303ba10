// SPDX-License-Identifier: Apache-2.0
/**
 * The parts of hydrogen-view-sdk (0.3.1, no types of its own in its exports) that main.ts uses:
 * the same start-up as Hydrogen's own web app (src/platform/web/main.js).
 */
declare module "hydrogen-view-sdk" {
  export interface AssetPaths {
    downloadSandbox: string;
    worker: string;
    olm: { wasm: string; legacyBundle: string; wasmBundle: string };
    /** Required: a signed-in session hands its access token to the service worker. */
    serviceWorker: string;
  }
  export class Platform {
    constructor(opts: { container: unknown; assetPaths: AssetPaths; configURL: string });
    readonly history: unknown;
    readonly settingsStorage: unknown;
    init(): Promise<void>;
    setNavigation(navigation: unknown): void;
    createAndMountRootView(vm: RootViewModel): void;
  }
  export interface Router {
    attach(): void;
  }
  export function createNavigation(): unknown;
  export function createRouter(opts: { navigation: unknown; history: unknown }): Router;
  export class FeatureSet {
    static load(settingsStorage: unknown): Promise<FeatureSet>;
  }
  export class RootViewModel {
    constructor(opts: { platform: Platform; urlRouter: Router; navigation: unknown; features: FeatureSet });
    load(): Promise<void>;
  }
}
