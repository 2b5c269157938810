/* program_openevolve.c — the OpenEvolve evaluator shim and its detection
 * (program_openevolve.h). */
#include "problems/program/program_openevolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* src/problems/program/openevolve_shim.py as a string literal (the Makefile makes it). */
const char rt_oe_shim[] =
#include "openevolve_shim.inc"
    ;
const size_t rt_oe_shim_len = sizeof rt_oe_shim - 1;

int rt_oe_detect(const char *path)
{
    size_t n = strlen(path);
    if (n < 3 || strcmp(path + n - 3, ".py") != 0)
        return 0;
    char *text = NULL;
    size_t len = 0;
    char err[256];
    if (rt_read_file(path, (size_t)4 << 20, &text, &len, err, sizeof err) != 0)
        return 0;
    int found = 0;
    int script = len >= 2 && text[0] == '#' && text[1] == '!' && access(path, X_OK) == 0;
    if (!script)
        for (const char *line = text; line && *line && !found;) {
            found = strncmp(line, "def evaluate(", 13) == 0 ||
                    strncmp(line, "def evaluate_stage1(", 20) == 0;
            line = strchr(line, '\n');
            line = line ? line + 1 : NULL;
        }
    free(text);
    return found;
}
