#pragma once
// The connector types this build has: what load_config() and json_schema() are handed. Adding a
// connector type: its connectors/<type>/<type>_conf.* (options, checks, settings, streams), one
// line here, and its stream factory in daemon/wiring.cpp.
//
// Thread-safety: immutable.

#include "config/connector_type.hpp"

namespace erpsync::connectors {

// magento2, odoo, feed: the order of the JSON Schema's connector variants.
config::ConnectorTypes connector_types();

}  // namespace erpsync::connectors
