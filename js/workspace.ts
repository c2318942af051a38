import type { RenderProps } from "@anywidget/types";

/** anywidget entry point of the agent workspace (issue 4 builds it out). */
function render({ el }: RenderProps<Record<string, never>>): void {
  el.textContent = "workspace";
}

export default { render };
