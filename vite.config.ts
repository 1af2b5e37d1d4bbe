import { defineConfig } from "vite";
import { precompressedAssets } from "./scripts/lib/precompressed-assets";

// Cross-origin isolation lets the emulator worker block on a SharedArrayBuffer while a loader
// worker fetches a page (lazy restore). Static hosts must send the same two headers.
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

const storePort = Number(process.env.SNAP86_STORE_PORT ?? 5188);

export default defineConfig({
  // Unknown paths are 404s, not the app page: a mistyped image URL must fail, not "boot" HTML.
  appType: "mpa",
  server: {
    port: Number(process.env.PORT ?? 5173),
    strictPort: false,
    headers: isolation,
    proxy: { "/store": { target: `http://127.0.0.1:${storePort}`, changeOrigin: true } },
  },
  preview: {
    port: Number(process.env.PORT ?? 4173),
    headers: isolation,
    proxy: { "/store": { target: `http://127.0.0.1:${storePort}`, changeOrigin: true } },
  },
  plugins: [precompressedAssets(isolation)],
  worker: { format: "es" },
  build: { target: "es2022" },
  optimizeDeps: { exclude: ["v86"] },
});
