/* output.c — what several commands print: JSON numbers and objects, the list of problems. */
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

/* A JSON number: an integer when the value is one (ranks print as 23, not 23.0). */
json_t *json_number(double v)
{
    if (v == (double)(json_int_t)v && v > -9e15 && v < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

void print_problems(FILE *f)
{
    fprintf(f, "Problems:\n");
    for (size_t i = 0; i < rt_problem_count(); i++)
        fprintf(f, "  %-10s %s\n", rt_problem_name_at(i), rt_problem_summary_at(i));
}

int print_json(json_t *o, size_t flags)
{
    char *text = o ? json_dumps(o, flags) : NULL;
    json_decref(o);
    if (!text)
        return -1;
    printf("%s\n", text);
    free(text);
    return 0;
}
