import { defineConfig } from 'vite'

// Hashed files under dist/assets; the embedded runtime (shared/chorus/local/webapp.py) and CloudFront
// serve dist/ with /config.json beside it.
export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
})
