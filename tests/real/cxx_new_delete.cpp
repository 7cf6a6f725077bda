// cxx_new_delete.cpp: C++'s new and delete reach the allocator through
// malloc and free, so the blocks a C++ program makes are in Ant's heap.
#include <ant/ant.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

struct Find {
    const void *mem;
    bool found;
};

int look(const ant_block_info_t *block, void *arg)
{
    Find *f = static_cast<Find *>(arg);
    f->found = f->found || block->mem == f->mem;
    return 0;
}

bool in_ant(const void *mem)
{
    Find f{mem, false};
    ant_walk(look, &f);
    return f.found;
}

} // namespace

int main()
{
    int failures = 0;
    int *numbers = new int[1000];
    failures += !in_ant(numbers);
    delete[] numbers;
    std::string *text = new std::string(200, 'a');
    failures += !in_ant(text) || !in_ant(text->data());
    delete text;
    std::map<int, std::vector<int>> table;
    for (int i = 0; i < 10000; i++)
        table[i].assign(static_cast<size_t>(i % 50), i);
    long sum = 0;
    for (const auto &entry : table)
        sum += static_cast<long>(entry.second.size());
    failures += sum != 245000;
    failures += ant_check() != 0;
    std::printf("%d failed, %d passed\n", failures ? 1 : 0, failures ? 0 : 1);
    return failures != 0;
}
