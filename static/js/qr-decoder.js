/* QR decoding for the scan page: window.MixerQR.
 *
 *   MixerQR.ready            a Promise of the engine's name ("native" or "zxing")
 *   MixerQR.detect(source)   a Promise of the first QR code's text in a <video>,
 *                            <canvas>, <img>, ImageData or ImageBitmap, or null
 *   MixerQR.engine           the engine's name once ready, else null
 *   MixerQR.detector(name)   a Promise of that engine's BarcodeDetector, or null
 *                            where the browser has none (benchmarks compare them)
 *
 * The browser's own BarcodeDetector where it reads QR codes (Android, macOS,
 * ChromeOS), else the barcode-detector ponyfill: ZXing-C++ compiled to WebAssembly.
 * The ponyfill (static/vendor/barcode-detector/ponyfill.js, a plain script that
 * sets window.BarcodeDetectionAPI) must be loaded before this script; its .wasm
 * comes from static/vendor/zxing-wasm/ on this server, never a CDN (the
 * Content-Security-Policy allows compiling it with 'wasm-unsafe-eval' and
 * fetching it from 'self'). Load this script with `data-wasm-url` to move the
 * .wasm elsewhere.
 */
(function () {
  "use strict";

  var FORMATS = ["qr_code"];
  var script = document.currentScript;
  var wasmUrl = (script && script.dataset.wasmUrl) ||
    new URL("../vendor/zxing-wasm/zxing_reader.wasm", (script && script.src) || location.href).href;
  // One function object: the ponyfill reuses its module while the overrides are equal.
  var overrides = {
    locateFile: function (path, prefix) {
      return /\.wasm$/.test(path) ? wasmUrl : prefix + path;
    }
  };
  var detectors = {};

  function nativeDetector() {
    var Native = window.BarcodeDetector;
    if (!Native || typeof Native.getSupportedFormats !== "function") return Promise.resolve(null);
    return Native.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") === -1 ? null : new Native({ formats: FORMATS });
    }, function () { return null; });
  }

  function zxingDetector() {
    var api = window.BarcodeDetectionAPI;
    if (!api || !api.BarcodeDetector) {
      return Promise.reject(new Error("The QR decoder's ZXing fallback is not loaded."));
    }
    // Fetch and compile the .wasm now, so that the first frame is read at full speed.
    return api.prepareZXingModule({ overrides: overrides, fireImmediately: true })
      .then(function () { return new api.BarcodeDetector({ formats: FORMATS }); });
  }

  function detector(name) {
    if (!detectors[name]) {
      if (name === "native") detectors[name] = nativeDetector();
      else if (name === "zxing") detectors[name] = zxingDetector();
      else return Promise.reject(new Error("Unknown QR engine: " + name));
    }
    return detectors[name];
  }

  var chosen = null;
  var ready = detector("native").then(function (found) {
    return found ? { name: "native", detector: found }
      : detector("zxing").then(function (zxing) { return { name: "zxing", detector: zxing }; });
  }).then(function (engine) {
    chosen = engine;
    MixerQR.engine = engine.name;
    return engine.name;
  });
  ready.catch(function () {});  // detect() reports the failure to whoever asks

  function hasNoFrame(source) {
    return (typeof HTMLVideoElement !== "undefined" && source instanceof HTMLVideoElement &&
            (source.readyState < 2 || !source.videoWidth)) ||
      (typeof HTMLCanvasElement !== "undefined" && source instanceof HTMLCanvasElement &&
       (!source.width || !source.height));
  }

  function detect(source) {
    return ready.then(function () {
      if (hasNoFrame(source)) return null;
      return chosen.detector.detect(source).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      });
    });
  }

  var MixerQR = window.MixerQR = {
    ready: ready,
    detect: detect,
    detector: detector,
    engine: null
  };
})();
