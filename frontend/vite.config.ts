import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The backend (port 8080 by default) serves the built `dist/` at `/`; in development the
// Vite dev server proxies the REST API and the Socket.IO transport (HTTP long-polling and
// WebSocket upgrade) to it.
const backend = process.env.PULSE_BACKEND_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      output: {
        // Vendor code in its own long-cached chunks: the app chunk changes on every deploy,
        // ECharts (selectively imported, still the bulk of the bundle) and Vue rarely do.
        // ECharts and its renderer zrender are two chunks (each under Vite's 500 kB warning;
        // together ~610 kB), loaded in parallel by every page that draws a chart.
        codeSplitting: {
          groups: [
            { name: 'zrender', test: /node_modules[\\/]zrender[\\/]/, priority: 3 },
            { name: 'echarts', test: /node_modules[\\/]echarts[\\/]/, priority: 2 },
            { name: 'vendor', test: /node_modules[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/socket.io': { target: backend, changeOrigin: true, ws: true },
    },
  },
});
