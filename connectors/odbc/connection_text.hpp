#pragma once
// Text helpers for connection strings and driver names, shared by odbc.cpp and the dialects.
//
// Thread-safety: stateless functions.

#include <string>
#include <string_view>

namespace erpsync::connectors::odbc {

// Whether `hay` contains `needle`, ASCII case-insensitively.
bool icontains(std::string_view hay, std::string_view needle);

// `conn` with the attribute `attr` ("Key=value") appended, separated by ';'.
std::string append_attr(std::string_view conn, std::string_view attr);

}  // namespace erpsync::connectors::odbc
