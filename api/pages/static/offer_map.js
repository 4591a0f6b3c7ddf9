/* The location picker of the offer (and order) form: the regions as the map's base layer (no map tiles
   are reachable), from the pages' own resource (data-regions); clicking the map fills the form's
   latitude and longitude (data-lat, data-lon: the inputs' ids) and marks the place; typing them moves
   the mark. With the keyboard: the arrow keys move the map, Enter takes its centre. Without a script
   the picker stays hidden and the fields are typed. When the regions are drawn the map element gets
   data-state="ready"; when they cannot be had, data-state="failed" (the map still picks). */
(function () {
  "use strict";
  var el = document.getElementById("location-map");
  var box = document.getElementById("location-pick");
  if (!el || !box || !window.L || !window.fetch) { return; }
  var lat = document.getElementById(el.getAttribute("data-lat"));
  var lon = document.getElementById(el.getAttribute("data-lon"));
  var said = document.getElementById("location-region");
  if (!lat || !lon) { return; }
  box.hidden = false;

  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  var mark = null;

  function typed() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) { return L.latLng(a, b); }
    return null;
  }

  function show(at) {
    if (mark) { mark.setLatLng(at); return; }
    mark = L.circleMarker(at, { radius: 7, color: "#b3261e", weight: 2, fillOpacity: 0.6, interactive: false }).addTo(map);
  }

  function rounded(v) { return String(Math.round(v * 10000) / 10000); }

  function choose(at, region) {
    at = at.wrap();
    lat.value = rounded(at.lat);
    lon.value = rounded(at.lng);
    show(at);
    if (said) {
      said.textContent = (el.getAttribute("data-label-chosen") || "") + ": " + lat.value + ", " + lon.value + (region ? " · " + region : "");
    }
  }

  function moved() {
    var at = typed();
    if (at) { show(at); }
  }

  var start = typed();
  if (start) { map.setView(start, 7); show(start); } else { map.setView([35, 105], 4); }

  map.on("click", function (e) { choose(e.latlng, null); });
  lat.addEventListener("change", moved);
  lon.addEventListener("change", moved);
  el.addEventListener("keydown", function (e) {
    if (e.target === el && e.key === "Enter") {
      e.preventDefault();
      choose(map.getCenter(), null);
    }
  });

  fetch(el.getAttribute("data-regions"), { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
    .then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    })
    .then(function (regions) {
      var layer = L.geoJSON(regions, {
        style: { color: "#8aa197", weight: 1, fillColor: "#eef3ef", fillOpacity: 0.9 },
        bubblingMouseEvents: false,
        onEachFeature: function (feature, drawn) {
          var id = feature.properties && feature.properties.region_id;
          if (id) { drawn.bindTooltip(String(id), { sticky: true }); }
          drawn.on("click", function (e) { choose(e.latlng, id); });
        }
      }).addTo(map);
      if (!typed() && layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      if (mark) { mark.bringToFront(); }
      el.setAttribute("data-state", "ready");
    })
    .catch(function () { el.setAttribute("data-state", "failed"); });
})();
