import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Served under /admin/ by `sf serve` (embedded from dist/admin at cargo build time) and by
// the Worker's static assets (wrangler.toml [assets] directory = "admin/dist").
export default defineConfig({
  base: '/admin/',
  plugins: [
    svelte({
      onwarn(warning, handler) {
        // Scrolling table wrappers take tabindex="0" so keyboards can scroll them
        // (axe-core's scrollable-region-focusable, which the browser tests enforce).
        if (warning.code === 'a11y_no_noninteractive_tabindex') return;
        handler(warning);
      },
    }),
  ],
  build: {
    outDir: 'dist/admin',
    emptyOutDir: true,
    // One small bundle; no source maps shipped in the binary.
    sourcemap: false,
    target: 'es2022',
    // Quiet: the Svelte compile is most of a 5 s build, which rolldown otherwise reports.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  server: {
    // `npm run dev` against a local `sf serve` on :8787.
    proxy: { '/admin/v1': 'http://127.0.0.1:8787' },
  },
});
