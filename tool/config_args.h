/* config_args.h — `ratchet run` options from a configuration file (tool/config_args.c). */
#ifndef RT_TOOL_CONFIG_ARGS_H
#define RT_TOOL_CONFIG_ARGS_H

/* Expands the arguments of `ratchet run` (argv[0] is "run") with the entries of a configuration
 * file, placed before the command line's own options so that flags override the file. The file
 * is --config FILE, else ratchet.ini next to --initial FILE when the problem is `program`; with
 * neither, *out_argv is argv. Relative paths in the file (initial, evaluator, verifier, store, the
 * command's program) are taken relative to the file's folder. Returns 0, or 2 after printing one
 * line naming FILE:LINE. Free the result with config_args_free(argv, *out_argv, *out_argc). */
int config_args_expand(int argc, char **argv, int *out_argc, char ***out_argv);
void config_args_free(char **argv, char **expanded, int argc);

#endif
