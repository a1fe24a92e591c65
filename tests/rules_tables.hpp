// A bundled rules table (rules/<dir>/, e.g. VirtAllowTable from rules/selinux), loaded once per
// test binary with its own load(dir, error); a load error fails the test with the loader's
// "file:line: why".
#pragma once

#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace virtdeny::test {

template <class Table>
const Table& bundled_table(const char* dir)
{
    static const Table loaded = [dir] {
        Table t;
        std::string error;
        const bool ok = t.load(source_dir() + "/rules/" + dir, error);
        INFO(error);
        REQUIRE(ok);
        return t;
    }();
    return loaded;
}

} // namespace virtdeny::test
