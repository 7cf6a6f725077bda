/*
 * child.c: the child-process harness of child.h. The child's stdout and
 * stderr go to temporary files rather than pipes, so a chatty child can
 * never block on a pipe nobody reads while the parent waits for it.
 */
#include "child.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

void child_enter(int argc, char **argv, const struct child_scenario *table)
{
    if (argc != 3 || strcmp(argv[1], "--child") != 0)
        return;
    for (const struct child_scenario *s = table; s->name; s++) {
        if (strcmp(s->name, argv[2]) == 0) {
            s->run();
            exit(0);
        }
    }
    fprintf(stderr, "no scenario named '%s'\n", argv[2]);
    exit(2);
}

static void slurp(FILE *file, char *buffer, size_t capacity)
{
    rewind(file);
    size_t n = fread(buffer, 1, capacity - 1, file);
    buffer[n] = 0;
    fclose(file);
}

void child_run(const char *name, const char *options, struct child_result *result)
{
    memset(result, 0, sizeof *result);
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    if (!out || !err) {
        perror("tmpfile");
        exit(1);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        /* The aborts are expected; cores of them would only fill the disk. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        if (options)
            setenv("ANT_OPTIONS", options, 1);
        else
            unsetenv("ANT_OPTIONS");
        /* The program's own path as argv[0], so that reports name the
         * program as they would outside the harness. */
        char path[4096];
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            _exit(127);
        path[n] = 0;
        execl(path, path, "--child", name, (char *)0);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            exit(1);
        }
    }
    if (WIFEXITED(status)) {
        result->exited = 1;
        result->status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result->signal = WTERMSIG(status);
    }
    slurp(out, result->out, sizeof result->out);
    slurp(err, result->err, sizeof result->err);
}

void child_say(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vdprintf(STDOUT_FILENO, format, args);
    va_end(args);
}

void child_show(const char *name, const char *options, const struct child_result *r)
{
    fprintf(stderr, "child '%s' with ANT_OPTIONS=%s ", name, options ? options : "(unset)");
    if (r->exited)
        fprintf(stderr, "exited with status %d\n", r->status);
    else
        fprintf(stderr, "died of signal %d (%s)\n", r->signal, strsignal(r->signal));
    fprintf(stderr, "--- its stdout ---\n%s--- its stderr ---\n%s------\n", r->out, r->err);
}

size_t child_count_lines(const char *text, const char *prefix)
{
    size_t n = 0;
    size_t len = strlen(prefix);
    for (const char *line = text; *line;) {
        if (strncmp(line, prefix, len) == 0)
            n++;
        const char *end = strchr(line, '\n');
        if (!end)
            break;
        line = end + 1;
    }
    return n;
}
