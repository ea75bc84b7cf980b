// Building, scaffolding and testing AssemblyScript filters.
export { buildFilter, ascArgs, sdkPathRoot, FilterBuildError } from './build-filter';
export type { BuildOptions, BuildResult, FilterManifest } from './build-filter';
export { buildBuiltins, listBuiltinFilters } from './build-builtins';
export type { BuiltinsOptions, BuiltinsReport } from './build-builtins';
export { scaffoldFilter, FILTER_NAME_RE } from './scaffold';
export type { ScaffoldOptions, ScaffoldResult } from './scaffold';
export { runFilterTests, findFilterTests } from './run-tests';
export { ABI_VERSION, SDK_VERSION, SDK_MODULE, PACKAGE_ROOT, SDK_ASSEMBLY_DIR } from './paths';
