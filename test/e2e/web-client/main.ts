// SPDX-License-Identifier: Apache-2.0
/**
 * The Hydrogen web client, whole (login, room list, rooms, invites, room creation), started as
 * Hydrogen's own web app starts it. Bundled by esbuild in server.ts; runs in the browser.
 */
import { FeatureSet, Platform, RootViewModel, createNavigation, createRouter } from "hydrogen-view-sdk";

declare const document: { body: unknown };

async function main(): Promise<void> {
  const platform = new Platform({
    container: document.body,
    assetPaths: {
      downloadSandbox: "/assets/download-sandbox.html",
      worker: "/assets/main.js",
      olm: { wasm: "/olm/olm.wasm", legacyBundle: "/olm/olm_legacy.js", wasmBundle: "/olm/olm.js" },
      serviceWorker: "/sw.js",
    },
    configURL: "/config.json",
  });
  await platform.init();
  const navigation = createNavigation();
  platform.setNavigation(navigation);
  const urlRouter = createRouter({ navigation, history: platform.history });
  urlRouter.attach();
  const features = await FeatureSet.load(platform.settingsStorage);
  const vm = new RootViewModel({ platform, urlRouter, navigation, features });
  await vm.load();
  platform.createAndMountRootView(vm);
}

void main();
