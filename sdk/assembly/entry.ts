// Second entry file of every filter build (added by sdk/build): re-exports
// the ABI callbacks through the package name, so they come from the same
// module instance the filter imports.
export * from "wasmesh-sdk/exports";
