// Vite client types: import.meta.env (DEV, PROD) in the demo.
/// <reference types="vite/client" />
