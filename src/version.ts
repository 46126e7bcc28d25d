// The package version, as a constant: tsconfig does not enable JSON imports, and a constant keeps
// bundles from pulling in package.json. test/onnx-export.test.ts checks it against package.json.
export const VERSION = '0.1.0';
