#include "tools/builtin.h"

#include "tools/registry.h"

namespace taco {

ToolRegistry make_builtin_registry() {
  ToolRegistry r;
  r.add(make_crop_tool());
  r.add(make_zoom_in_tool());
  r.add(make_visualize_regions_tool());
  r.add(make_calculate_tool());
  r.add(make_terminate_tool());
  return r;
}

}  // namespace taco
