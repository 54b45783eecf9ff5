/** The argument under which latchkey re-executes itself as the exec shim (see shim.ts). */
export const SHIM_ARG = "__latchkey_exec_shim";
