/*
 * sessions.c: a leak and a growing table, for the gdb commands that ask
 * what leaks, who allocated a block, what grew and who points here.
 *
 *   ./sessions
 *
 * A chat server keeps its open sessions in a list, each with a copy of its
 * user's name and a pointer to its latest message; every message is kept
 * in a history whose table doubles when it fills. The bug:
 * close_session() unlinks a session but frees neither it nor its name, so
 * the session is lost, and the name with it. The program stops in
 * ant_example_stop() twice, before and after a second round of messages,
 * then exits with 0.
 */
#include <ant/ant.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
    struct session *next;
    char *user;
    char *last;
    unsigned messages;
};

static struct session *sessions;
static char **history;
static size_t history_count;
static size_t history_size;

void ant_example_stop(void);

/* A place for a breakpoint. noinline and the empty asm keep the call in
 * place: the compiler may neither inline it nor drop it as useless. */
__attribute__((noinline)) void ant_example_stop(void)
{
    __asm__ volatile("" ::: "memory");
}

static void *checked(void *mem)
{
    if (!mem) {
        fputs("sessions: out of memory\n", stderr);
        exit(1);
    }
    return mem;
}

/* Each allocating function is kept out of line, so that its blocks have
 * a site of their own. */
__attribute__((noinline)) static char *copy_name(const char *name)
{
    size_t length = strlen(name) + 1;
    char *copy = checked(ant_malloc(length));
    memcpy(copy, name, length);
    return copy;
}

__attribute__((noinline)) static void open_session(const char *user)
{
    struct session *s = checked(ant_malloc(sizeof *s));
    s->next = sessions;
    s->user = copy_name(user);
    s->last = 0;
    s->messages = 0;
    sessions = s;
}

/* The bug: the session leaves the list, and nothing frees it. */
__attribute__((noinline)) static void close_session(const char *user)
{
    for (struct session **at = &sessions; *at; at = &(*at)->next) {
        if (strcmp((*at)->user, user) == 0) {
            *at = (*at)->next;
            return;
        }
    }
}

__attribute__((noinline)) static void post(struct session *s)
{
    if (history_count == history_size) {
        history_size = history_size ? 2 * history_size : 8;
        history = checked(ant_realloc(history, history_size * sizeof *history));
    }
    char text[64];
    int length = snprintf(text, sizeof text, "%s: message %u", s->user, ++s->messages);
    char *message = checked(ant_malloc((size_t)length + 1));
    memcpy(message, text, (size_t)length + 1);
    history[history_count++] = message;
    s->last = message;
}

static void round_of(unsigned messages)
{
    for (unsigned i = 0; i < messages; i++)
        for (struct session *s = sessions; s; s = s->next)
            post(s);
}

int main(void)
{
    static const char *const users[] = {"ada", "grace", "edsger", "barbara", "ken"};
    for (size_t i = 0; i < sizeof users / sizeof *users; i++)
        open_session(users[i]);
    round_of(2);
    close_session("grace");
    round_of(1);
    ant_example_stop();
    round_of(6);
    ant_example_stop();
    printf("%zu messages\n", history_count);
    return 0;
}
