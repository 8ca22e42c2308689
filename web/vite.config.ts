import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// `npm run dev` proxies /v1 to a running esign-local (scripts/local.sh), ESIGN_API to change it.
const api = process.env.ESIGN_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [preact()],
  build: {
    // The CSP allows no inline script: keep Vite from inlining anything into index.html.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: { proxy: { '/v1': { target: api, changeOrigin: false } } },
});
