#pragma once
// The one URL encoder: RFC 3986 percent-encoding (uppercase hex) of everything but the
// unreserved characters ALPHA DIGIT - . _ ~ and the characters of `also_keep`. Query values,
// form bodies (application/x-www-form-urlencoded), OAuth 1.0a signature bases and the encoded
// forms of secrets the redactor masks all use it.
//
// Thread-safety: stateless.

#include <string>
#include <string_view>

namespace erpsync::connectors::http {

std::string percent_encode(std::string_view text, std::string_view also_keep = {});

}  // namespace erpsync::connectors::http
