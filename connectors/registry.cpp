#include "connectors/registry.hpp"

#include "connectors/feed/feed_conf.hpp"
#include "connectors/magento2/magento2_conf.hpp"
#include "connectors/odoo/odoo_conf.hpp"

namespace erpsync::connectors {

config::ConnectorTypes connector_types() {
  static const config::ConnectorType* const types[] = {&magento2::connector_type(), &odoo::connector_type(),
                                                       &feed::connector_type()};
  return types;
}

}  // namespace erpsync::connectors
