// Draws the book's ```mermaid blocks as diagrams, in the reader's browser, with the mermaid
// script that `just docs` vendors (docs/vendor/mermaid.min.js, fetched from the npm registry at
// build time, never from a network at reading time). Each diagram is marked `data-rendered="yes"`
// once drawn, or `"no"` with its error, so that the book's browser check (`workbook book
// --check`) can tell a drawn diagram from a broken one.
(async () => {
  const blocks = Array.from(document.querySelectorAll("code.language-mermaid"));
  if (blocks.length === 0) {
    return;
  }
  const classes = document.documentElement.classList;
  const dark = ["coal", "navy", "ayu"].some((theme) => classes.contains(theme));
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
  for (const [index, code] of blocks.entries()) {
    const source = code.textContent;
    const diagram = document.createElement("div");
    diagram.className = "mermaid-diagram";
    try {
      const { svg } = await mermaid.render(`diagram-${index}`, source);
      diagram.innerHTML = svg;
      diagram.dataset.rendered = "yes";
    } catch (error) {
      diagram.dataset.rendered = "no";
      diagram.dataset.error = String((error && error.message) || error);
      diagram.textContent = source;
      console.error(`diagram ${index} did not render: ${diagram.dataset.error}`);
    }
    code.parentElement.replaceWith(diagram);
  }
  document.body.dataset.diagrams = String(blocks.length);
})();
