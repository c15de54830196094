import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console as static files for the gateway's /console: hashed assets, no inline script or style
 * (the CSP allows 'self' only), nothing fetched from a CDN at run time.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No data: URLs for assets, no inline polyfill script.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
