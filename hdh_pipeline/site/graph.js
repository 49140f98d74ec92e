// The join graph of a database drawn with Cytoscape.js (served beside the pages, nothing from the network): zoom
// with the wheel, pan by dragging, a colour per product with a legend whose boxes show or hide a product, a table's
// neighbourhood highlighted when it is clicked or focused in the list, its page opened by a double click. Without
// the script, the static drawing stays.
(function () {
  const box = document.getElementById("join-graph"), data = document.getElementById("join-graph-data");
  if (!box || !data || !window.cytoscape) return;
  const graph = JSON.parse(data.textContent);
  const palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#44AA99",
                   "#117733", "#999933", "#332288", "#AA4499", "#6B6B6B"];  // colour-blind safe first (Okabe-Ito)
  const colour = Object.fromEntries(graph.products.map((p, i) => [p, palette[i % palette.length]]));
  document.getElementById("join-graph-static").hidden = true;
  box.hidden = false;
  const cy = window.cytoscape({
    container: box, minZoom: 0.05, maxZoom: 4, wheelSensitivity: 0.4,
    elements: [...graph.nodes.map((n) => ({data: {...n, colour: colour[n.product]}})),
               ...graph.edges.map((e, i) => ({data: {id: `e${i}`, ...e}}))],
    style: [
      {selector: "node", style: {"background-color": "data(colour)", label: "data(id)", "font-size": 11,
                                 "min-zoomed-font-size": 7, width: 14, height: 14, "text-valign": "bottom",
                                 "text-margin-y": 3, color: "#1b1b1b"}},
      {selector: "edge", style: {width: 1, "line-color": "#a0a0a0", "target-arrow-shape": "triangle",
                                 "target-arrow-color": "#a0a0a0", "curve-style": "bezier", "arrow-scale": 0.7}},
      {selector: ".faded", style: {opacity: 0.12}},
      {selector: "node.focus", style: {"border-width": 3, "border-color": "#1b1b1b", width: 20, height: 20}},
      {selector: "edge.near", style: {width: 2.5, "line-color": "#1b1b1b", "target-arrow-color": "#1b1b1b",
                                      label: "data(label)", "font-size": 9, "text-rotation": "autorotate"}},
    ],
    layout: {name: "cose", animate: false, nodeDimensionsIncludeLabels: true, idealEdgeLength: 90,
             nodeRepulsion: 9000, numIter: 1500},
  });
  const show = (node, fit) => {  // a table, its neighbours and their keys (zoomed to them); the rest faded
    cy.elements().removeClass("faded near focus");
    if (!node || node.empty()) {
      if (fit) cy.fit(undefined, 20);
      return;
    }
    const near = node.closedNeighborhood();
    cy.elements().not(near).addClass("faded");
    near.edges().addClass("near");
    node.addClass("focus");
    if (fit) cy.fit(near, 60);
  };
  cy.on("tap", (event) => show(event.target === cy ? null : event.target.isNode() ? event.target : null, true));
  cy.on("dbltap", "node", (event) => { if (event.target.data("href")) location.href = event.target.data("href"); });
  const legend = document.getElementById("join-graph-legend");
  for (const product of graph.products) {
    const label = document.createElement("label"), box = document.createElement("input"),
          swatch = document.createElement("span");
    box.type = "checkbox"; box.checked = true; box.value = product;
    swatch.className = "swatch"; swatch.style.background = colour[product];
    box.addEventListener("change", () => {
      cy.nodes().filter((n) => n.data("product") === product).style("display", box.checked ? "element" : "none");
    });
    label.append(box, swatch, product);
    legend.append(label);
  }
  legend.hidden = false;
  for (const link of document.querySelectorAll("[data-graph-table]")) {  // the tables' list shows their neighbourhood
    link.addEventListener("focus", () => show(cy.getElementById(link.dataset.graphTable), true));
    link.addEventListener("mouseenter", () => show(cy.getElementById(link.dataset.graphTable)));
  }
  window.hdhJoinGraph = cy;
})();
