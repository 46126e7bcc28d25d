// What wrangler's module rules give these imports (see wrangler.toml).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.epc' {
  const bytes: ArrayBuffer;
  export default bytes;
}
