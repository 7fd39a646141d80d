/* flashdeck: tap to answer (issue 12).

   Inlined by notetype/__init__.py into both templates of multiple-choice cards.
   Front: each option becomes a radio button to tap (or key 1-9 / A-I); with
   fd-shuffle the options come in a new order. Back: the order of the front, the
   learner's choice marked. Anything that fails leaves the card as it is with
   scripts off (same order, no choice, the key marked by the CSS alone).

   Rules for this file: ES5 only (old Android WebViews), no network, and never
   two braces in a row (Anki reads those as a field).

   How the choice gets from front to back. What each client keeps between the
   two sides, as the anki-persistence project documents it (SimonLammer/
   anki-persistence on GitHub: script.js, its client table and the order in
   which v1.0 picks a storage; README "How it works"; issue 77):
   - AnkiDroid loads a new page for the back, so window variables are gone
     (issue 77; AnkiDroid issue 15665 says the same). anki-persistence keeps
     its data in localStorage when the user agent says "Mobile" (AnkiDroid,
     AnkiMobile), else in sessionStorage; AnkiDroid turned localStorage on in
     2.16 (AnkiDroid pull request 11447).
   - AnkiMobile: sessionStorage and localStorage work, window variables are
     not kept.
   - Anki desktop replaces the card's HTML inside one page that lives for the
     whole session: window variables survive (anki-persistence keeps its data
     on a window property there); sessionStorage works since 2.1.50 (issue 77),
     older versions refuse it.
   So the state goes to every one of these that works, and the back takes the
   newest state for its card from whichever has it. Options are only shuffled
   when a web storage works, because only that can be checked on the front: an
   order lost on the way would give the back other letters.
   The state names its card (ID field plus a hash of the question and options),
   and there is one slot: each front empties it and writes its own, and the
   back empties it once read, so a choice never lands on another card or on a
   later review's back.
   AnkiMobile turns a tap into "show answer" unless the tapped element has an
   onclick handler or the class "tappable" (AnkiMobile manual, section
   "JavaScript"): options get both. */
(function () {
  var SLOT = "flashdeck-tap";
  var LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  function hasClass(el, name) {
    return (" " + el.className + " ").indexOf(" " + name + " ") >= 0;
  }

  function addClass(el, name) {
    if (!hasClass(el, name)) {
      el.className = el.className ? el.className + " " + name : name;
    }
  }

  function removeClass(el, name) {
    el.className = (" " + el.className + " ").replace(" " + name + " ", " ").replace(/^\s+|\s+$/g, "");
  }

  function cardRoot() {
    var script = document.currentScript;
    var el = script ? script.previousSibling : null;
    while (el && el.nodeType !== 1) {
      el = el.previousSibling;
    }
    if (el && hasClass(el, "fd")) {
      return el;
    }
    var all = document.querySelectorAll(".fd");
    return all.length ? all[all.length - 1] : null;
  }

  function options(ol) {
    var out = [];
    for (var el = ol.firstChild; el; el = el.nextSibling) {
      if (el.nodeType === 1 && hasClass(el, "fd-option")) {
        out.push(el);
      }
    }
    return out;
  }

  function textOf(el) {
    if (!el) {
      return "";
    }
    var text = el.textContent || "";
    var images = el.getElementsByTagName("img");
    for (var i = 0; i < images.length; i++) {
      text += "\u0001" + (images[i].getAttribute("src") || "");
    }
    return text;
  }

  function cardKey(root, items) {
    var text = textOf(root.querySelector(".fd-question"));
    for (var i = 0; i < items.length; i++) {
      text += "\u0002" + textOf(items[i].querySelector(".fd-text"));
    }
    var h = 0;
    for (var j = 0; j < text.length; j++) {
      h = (h * 31 + text.charCodeAt(j)) | 0;
    }
    return (root.getAttribute("data-fd-card") || "") + ":" + text.length + ":" + (h >>> 0).toString(36);
  }

  /* localStorage and sessionStorage, those of them that work here. */
  function webStores() {
    var out = [];
    var names = ["localStorage", "sessionStorage"];
    for (var i = 0; i < names.length; i++) {
      try {
        var store = window[names[i]];
        store.setItem(SLOT + "-probe", "1");
        if (store.getItem(SLOT + "-probe") === "1") {
          store.removeItem(SLOT + "-probe");
          out.push(store);
        }
      } catch (e) {
        /* refused here (older Anki desktop) */
      }
    }
    return out;
  }

  function save(stores, state) {
    var text = JSON.stringify(state);
    window.flashdeckTapState = text;
    for (var i = 0; i < stores.length; i++) {
      try {
        stores[i].setItem(SLOT, text);
      } catch (e) {
        /* the others still carry it */
      }
    }
  }

  function clear(stores) {
    window.flashdeckTapState = null;
    for (var i = 0; i < stores.length; i++) {
      try {
        stores[i].removeItem(SLOT);
      } catch (e) {
        /* nothing stored there */
      }
    }
  }

  function isOrder(order, n) {
    if (!(order instanceof Array) || order.length !== n) {
      return false;
    }
    var seen = [];
    for (var i = 0; i < n; i++) {
      var k = order[i];
      if (typeof k !== "number" || k % 1 !== 0 || k < 0 || k >= n || seen[k]) {
        return false;
      }
      seen[k] = true;
    }
    return true;
  }

  function parse(text, key, n) {
    try {
      var state = JSON.parse(text);
      var c = state.c;
      if (state.k === key && isOrder(state.o, n) && typeof c === "number" && c % 1 === 0 && c >= -1 && c < n &&
          typeof state.t === "number") {
        return state;
      }
    } catch (e) {
      /* not ours, or damaged */
    }
    return null;
  }

  /* The newest state for this card: a store whose last write failed may still
     hold an older one. */
  function load(stores, key, n) {
    var texts = [window.flashdeckTapState];
    for (var i = 0; i < stores.length; i++) {
      try {
        texts.push(stores[i].getItem(SLOT));
      } catch (e) {
        /* unreadable: the others may have it */
      }
    }
    var found = null;
    for (var j = 0; j < texts.length; j++) {
      var state = typeof texts[j] === "string" ? parse(texts[j], key, n) : null;
      if (state && (!found || state.t > found.t)) {
        found = state;
      }
    }
    return found;
  }

  function inOrder(n) {
    var order = [];
    for (var i = 0; i < n; i++) {
      order.push(i);
    }
    return order;
  }

  function shuffled(n) {
    var order = inOrder(n);
    for (var j = n - 1; j > 0; j--) {
      var r = Math.floor(Math.random() * (j + 1));
      var t = order[j];
      order[j] = order[r];
      order[r] = t;
    }
    return order;
  }

  function identity(order) {
    for (var i = 0; i < order.length; i++) {
      if (order[i] !== i) {
        return false;
      }
    }
    return true;
  }

  /* Show items[order[0]] first, and so on; letters follow the shown order. */
  function arrange(root, ol, items, order) {
    if (identity(order)) {
      return;
    }
    var letters = [];
    for (var i = 0; i < order.length; i++) {
      var item = items[order[i]];
      ol.appendChild(item);
      var letter = item.querySelector(".fd-letter");
      if (letter) {
        letters.push([letter, LETTERS.charAt(i)]);
        if (hasClass(item, "fd-correct")) {
          var answer = root.querySelector(".fd-answer .fd-letter");
          if (answer) {
            letters.push([answer, LETTERS.charAt(i)]);
          }
        }
      }
    }
    for (var j = 0; j < letters.length; j++) {
      letters[j][0].textContent = letters[j][1];
    }
  }

  /* Invisible changes first: if anything fails before the last two steps, the
     front looks as it does with scripts off. */
  function front(root, ol, items, key) {
    var stores = webStores();
    clear(stores);
    var n = items.length;
    var order = hasClass(ol, "fd-shuffle") && stores.length ? shuffled(n) : inOrder(n);
    var state = { k: key, o: order, c: -1, t: new Date().getTime() };

    function choose(index) {
      state.c = index;
      state.t = new Date().getTime();
      save(stores, state);
      for (var i = 0; i < n; i++) {
        items[i].setAttribute("aria-checked", i === index ? "true" : "false");
        if (i === index) {
          addClass(items[i], "fd-chosen");
        } else {
          removeClass(items[i], "fd-chosen");
        }
      }
    }

    function handler(index) {
      return function () {
        choose(index);
        return false;
      };
    }

    ol.setAttribute("role", "radiogroup");
    ol.setAttribute("aria-label", "Choose an answer");
    for (var i = 0; i < n; i++) {
      items[i].setAttribute("role", "radio");
      items[i].setAttribute("aria-checked", "false");
      items[i].setAttribute("tabindex", "0");
      addClass(items[i], "tappable");
      items[i].onclick = handler(i);
    }
    save(stores, state);
    arrange(root, ol, items, order);
    addClass(ol, "fd-tap");
    listenForKeys();
  }

  /* One listener per page: Anki desktop keeps the page (and its listeners) for
     the whole session. It acts only while a front is shown, because on the
     back the number keys are Anki's answer buttons. */
  function listenForKeys() {
    if (window.flashdeckTapKeys || !document.addEventListener) {
      return;
    }
    window.flashdeckTapKeys = true;
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.altKey || e.metaKey || e.defaultPrevented) {
        return;
      }
      var code = e.keyCode || e.which || 0;
      var key = typeof e.key === "string" && e.key.length === 1 ? e.key.toUpperCase() : "";
      var index = -1;
      if (key) {
        index = "123456789".indexOf(key);
        if (index < 0) {
          index = "ABCDEFGHI".indexOf(key);
        }
      } else if (code >= 49 && code <= 57) {
        index = code - 49;
      } else if (code >= 65 && code <= 73) {
        index = code - 65;
      }
      var fronts = index >= 0 ? document.querySelectorAll(".fd-front ol.fd-tap") : [];
      var shown = fronts.length === 1 ? options(fronts[0]) : []; /* a reviewer shows one card; a preview many */
      if (index >= 0 && index < shown.length && shown[index].onclick) {
        shown[index].onclick();
        e.preventDefault();
      }
    }, false);
  }

  function back(root, ol, items, key) {
    var stores = webStores();
    var state = load(stores, key, items.length);
    if (!state) {
      return;
    }
    clear(stores);
    arrange(root, ol, items, state.o);
    if (state.c < 0) {
      return;
    }
    var chosen = items[state.c];
    var right = hasClass(chosen, "fd-correct");
    var verdict = document.createElement("span");
    verdict.className = "fd-verdict";
    verdict.appendChild(document.createTextNode(right ? "Your answer, correct" : "Your answer"));
    (chosen.querySelector(".fd-text") || chosen).appendChild(verdict);
    addClass(chosen, "fd-chosen");
    addClass(ol, "fd-tap");
    addClass(ol, "fd-answered");
  }

  try {
    var root = cardRoot();
    var ol = root ? root.querySelector("ol.fd-options") : null;
    var items = ol ? options(ol) : [];
    if (items.length < 2 || !window.JSON) {
      return;
    }
    var key = cardKey(root, items);
    if (hasClass(root, "fd-front")) {
      front(root, ol, items, key);
    } else if (hasClass(root, "fd-back")) {
      back(root, ol, items, key);
    }
  } catch (e) {
    /* the card stays as it is without JavaScript */
  }
})();
