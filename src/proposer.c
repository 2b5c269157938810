/* proposer.c — the registry of proposers. A new proposer adds one line to `registry`. */
#include "proposer.h"

#include <string.h>

static const rt_proposer_class *const registry[] = {
    &rt_proposer_builtin,
    &rt_proposer_command,
};

const rt_proposer_class *rt_proposer_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (name && strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
