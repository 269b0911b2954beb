// The one translation unit that compiles Asio and Beast (separate compilation:
// every other file sees declarations only). See STYLE.md, habit 2.
// clang-format off: <utility> must precede Asio's coroutine headers (Boost 1.74 misses it).
#include <utility>
// clang-format on

#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
