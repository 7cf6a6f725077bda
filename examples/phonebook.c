/*
 * phonebook.c: the demo's program, a small phone book with a real bug.
 *
 * Each entry keeps its name and its numbers in blocks of their own, made
 * when the entry is added; the numbers are filled in afterwards. The
 * numbers' block is a fixed 16 bytes, enough for "555-0100" but not for
 * someone with two numbers. Copying those runs past the end of the block,
 * through its tail sentinel and on into the node of the next block.
 *
 * Nothing goes wrong at once. The program crashes later, in ant_free(), on
 * a block that did nothing wrong: the damaged node's owner. That is where a
 * debugger without the heap's metadata would leave you. Ant's report, and
 * ant-check in gdb, name the block that wrote too far and where it was
 * allocated.
 */
#include <ant/ant.h>

#include <stdio.h>
#include <string.h>

#define NUMBERS_SIZE 16 /* the bug: room for 15 characters, and no check */

struct entry {
    char *name;
    char *numbers;
};

static void add(struct entry *e, const char *name)
{
    e->name = ant_malloc(strlen(name) + 1);
    strcpy(e->name, name);
    e->numbers = ant_malloc(NUMBERS_SIZE);
    e->numbers[0] = '\0';
}

static void set_numbers(struct entry *e, const char *numbers)
{
    strcpy(e->numbers, numbers);
}

int main(void)
{
    static const char *const people[][2] = {
        {"Ada", "555-0100"},
        {"Grace", "555-0199"},
        {"Edsger", "+31 20 592 9333, +31 6 1234 5678"},
        {"Barbara", "555-0142"},
    };
    enum { COUNT = sizeof people / sizeof people[0] };
    struct entry book[COUNT];
    for (int i = 0; i < COUNT; i++)
        add(&book[i], people[i][0]);
    for (int i = 0; i < COUNT; i++)
        set_numbers(&book[i], people[i][1]);
    for (int i = 0; i < COUNT; i++)
        printf("%-8s %s\n", book[i].name, book[i].numbers);
    fflush(stdout); /* so the listing shows before the crash */
    for (int i = COUNT - 1; i >= 0; i--) {
        ant_free(book[i].numbers);
        ant_free(book[i].name);
    }
    return 0;
}
