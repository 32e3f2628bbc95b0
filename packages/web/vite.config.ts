import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Two entry pages: the admin portal at / and the Company Portal at /portal. Everything is bundled;
// nothing is fetched from outside at run time.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: { input: { admin: here('./index.html'), portal: here('./portal/index.html') } },
  },
});
