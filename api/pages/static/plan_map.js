/* The plan's map: the regions as the base layer (no map tiles are reachable), one coloured line per
   tour (class "tour-line", data-route-id), every stop as a dot in its tour's colour, hubs as squares;
   choosing a line numbers its stops in order. Its data come from the pages' own JSON resources
   (session-authenticated): data-geojson (the tours) and data-regions. When drawn, the map element gets
   data-state="ready" and data-tours (the number of lines); on a failure data-state="failed". */
(function () {
  "use strict";
  var el = document.getElementById("plan-map");
  if (!el || !window.L || !window.fetch) { return; }

  var open = el.getAttribute("data-open") === "true"; // the line haul ends at its last hub
  var tourUrl = el.getAttribute("data-tour-url");
  var label = function (name) { return el.getAttribute("data-label-" + name) || name; };
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  var canvas = L.canvas({ padding: 0.2 });
  var numbered = L.layerGroup().addTo(map);
  var chosen = null;

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span.innerHTML;
  }

  function stopsOf(feature) {
    var line = feature.geometry.coordinates;
    var n = feature.properties.stops;
    return line.slice(1, 1 + n);
  }

  function number(feature) {
    numbered.clearLayers();
    stopsOf(feature).forEach(function (c, k) {
      L.marker([c[1], c[0]], {
        icon: L.divIcon({ className: "stop-number", html: String(k + 1), iconSize: [22, 22] }),
        title: label("tour") + " " + feature.properties.route_id + " · " + (k + 1),
        keyboard: false
      }).addTo(numbered);
    });
  }

  function choose(layer, feature) {
    if (chosen) { chosen.setStyle({ weight: 3, opacity: 0.85 }); }
    chosen = layer;
    layer.setStyle({ weight: 6, opacity: 1 });
    layer.bringToFront();
    number(feature);
  }

  function popup(p) {
    var html = "<strong>" + text(label("tour")) + " " + text(p.route_id) + "</strong><br>" +
      text(p.vehicle_type) + " · " + text(String(p.kg)) + " kg · " + text(label("stops")) + " " + text(String(p.stops));
    if (tourUrl) {
      var href = tourUrl.replace("ROUTE_ID", encodeURI(p.route_id));
      html += '<br><a href="' + text(href) + '">' + text(label("open")) + "</a>";
    }
    return html;
  }

  function drawRegions(regions) {
    L.geoJSON(regions, {
      pane: "regions",
      renderer: L.canvas({ pane: "regions" }),
      interactive: false,
      style: { color: "#8aa197", weight: 1, fillColor: "#eef3ef", fillOpacity: 0.9 }
    }).addTo(map);
  }

  function drawTours(data) {
    var features = data.features || [];
    var hubs = {};
    var lines = L.featureGroup().addTo(map);
    features.forEach(function (f) {
      var p = f.properties;
      var latlngs = f.geometry.coordinates.map(function (c) { return [c[1], c[0]]; });
      var line = L.polyline(latlngs, { color: p.colour, weight: 3, opacity: 0.85, className: "tour-line" });
      line.bindPopup(popup(p));
      line.on("click", function () { choose(line, f); });
      line.addTo(lines);
      var path = line.getElement && line.getElement();
      if (path) { path.setAttribute("data-route-id", p.route_id); }
      stopsOf(f).forEach(function (c) {
        L.circleMarker([c[1], c[0]], { renderer: canvas, radius: 3, color: p.colour, weight: 1, fillOpacity: 0.9, interactive: false }).addTo(map);
      });
      hubs[p.depot_id] = [p.depot_lat, p.depot_lon];
      if (open) { // a line haul's stops are hubs too
        stopsOf(f).forEach(function (c) { hubs["#" + c[1] + "," + c[0]] = [c[1], c[0]]; });
      }
    });
    Object.keys(hubs).forEach(function (id) {
      var named = id.indexOf("#") < 0;
      L.marker(hubs[id], {
        icon: L.divIcon({ className: "hub-marker", iconSize: [9, 9] }),
        title: named ? label("hub") + " " + id : label("hub"),
        keyboard: false
      }).addTo(map);
    });
    if (features.length) {
      map.fitBounds(lines.getBounds(), { padding: [20, 20] });
    }
    if (features.length === 1) {
      choose(lines.getLayers()[0], features[0]);
    }
    el.setAttribute("data-tours", String(features.length));
    return features.length;
  }

  map.setView([35, 105], 4);
  // the regions lie under everything, whenever they come (a country's borders take a moment)
  map.createPane("regions").style.zIndex = "250";
  var regionsUrl = el.getAttribute("data-regions");
  var tours = get(el.getAttribute("data-geojson")).then(drawTours);
  if (regionsUrl) {
    Promise.all([get(regionsUrl), tours]).then(function (both) {
      drawRegions(both[0]);
      if (!both[1] && both[0].features && both[0].features.length) { map.fitBounds(L.geoJSON(both[0]).getBounds()); }
    }).catch(function () { /* the tours are drawn without their base layer */ });
  }
  tours.then(function () {
    el.setAttribute("data-state", "ready");
  }).catch(function () {
    el.setAttribute("data-state", "failed");
  });
})();
