/* llm_server.h — a small chat completions server on 127.0.0.1 for the tests, answering from
 * scripted reply files (tests/data/llm/NAME.reply) over a real socket.
 *
 * A reply file is a few "key: value" lines, a line "---", then the body:
 *   status: 200            HTTP status (default 200)
 *   delay: 0.5             seconds to wait before answering
 *   retry-after: 1         adds a Retry-After header
 *   close-after: 40        send the headers and only this many body bytes, then close
 *   wrap: yes              the body is the assistant's message text: the server wraps it in a
 *                          chat completion JSON object (choices[0].message.content, usage, model)
 *   tokens: 120 35         usage.prompt_tokens and usage.completion_tokens when wrapping
 *   finish: stop           finish_reason when wrapping
 * Lines starting with '#' are comments. Without "wrap" the body is sent as it is.
 *
 * Each accepted connection is served by its own thread (one request per connection, then
 * "Connection: close"), so slow replies do not hold up others. Replies are taken in order from a
 * script; when the script is used up, the fallback reply answers.
 */
#ifndef RT_LLM_SERVER_H
#define RT_LLM_SERVER_H

#include <stddef.h>

typedef struct llm_server llm_server;

/* Starts a server on an ephemeral loopback port, reading reply files from dir. NULL on failure
 * (message on stderr). */
llm_server *llm_server_start(const char *dir);
/* Stops accepting, waits for the connection threads and frees everything. */
void llm_server_stop(llm_server *s);
/* "http://127.0.0.1:PORT/v1" */
const char *llm_server_url(const llm_server *s);
/* Replaces the script: names of reply files (without ".reply"), then fallback for the rest. */
void llm_server_script(llm_server *s, const char *const *names, size_t n, const char *fallback);

/* What the server saw. */
int llm_server_requests(llm_server *s);     /* complete requests read */
int llm_server_max_in_flight(llm_server *s); /* most requests being answered at once */
/* Copies of the last request's body and its Authorization header value ("" when none). */
void llm_server_last(llm_server *s, char *body, size_t body_len, char *auth, size_t auth_len);

#endif
