// Planner's page of cropflow. Every value from a workbook or the API is
// written with textContent, never parsed as HTML.
"use strict";

const TOKEN_KEY = "cropflow.apiToken";
const LOTS_PER_PAGE = 100;
// The heat map shows at most this many days; a wider range is cut at the end.
const MAX_CALENDAR_DAYS = 400;
const DAY_MS = 24 * 60 * 60 * 1000;

const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || "";
tokenInput.addEventListener("input", () => {
  if (tokenInput.value) {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
});

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    tr.appendChild(cell instanceof Node ? wrapCell(cell) : element("td", cell));
  }
  return tr;
}

function wrapCell(node) {
  const td = document.createElement("td");
  td.appendChild(node);
  return td;
}

function clear(node) {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
}

function showMessage(id, text, isError) {
  const node = document.getElementById(id);
  node.textContent = text || "";
  node.classList.toggle("error", Boolean(isError));
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ detail: `HTTP ${response.status}` }));
  if (!response.ok) {
    throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
  }
  return body;
}

function fillSummary(list, pairs) {
  clear(list);
  for (const [label, value, className] of pairs) {
    list.appendChild(element("dt", label));
    list.appendChild(element("dd", value, className));
  }
}

// Problem rows: kind, sheet!cell, column name, value found, message.
function problemRows(tbody, problems, kind) {
  for (const problem of problems) {
    let location = problem.sheet || "";
    if (problem.sheet && problem.row !== null && problem.row !== undefined) {
      location = `${problem.sheet}!${problem.column || ""}${problem.row}`;
    }
    const column = [problem.column, problem.field].filter(Boolean).join(" · ");
    const tr = row([kind, location, column, problem.value ?? "", problem.message]);
    tr.firstChild.className = `kind-${kind}`;
    tbody.appendChild(tr);
  }
}

// ---- Upload -------------------------------------------------------------

const dropZone = document.getElementById("drop-zone");
const fileInput = document.getElementById("file-input");
let chosenFile = null;

fileInput.addEventListener("change", () => {
  chosenFile = fileInput.files[0] || null;
});
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  const files = event.dataTransfer.files;
  if (files.length !== 1) {
    showMessage("upload-message", "Drop exactly one workbook.", true);
    return;
  }
  chosenFile = files[0];
  uploadPlan(chosenFile);
});

document.getElementById("upload-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!chosenFile) {
    showMessage("upload-message", "Choose a workbook first.", true);
    return;
  }
  uploadPlan(chosenFile);
});

async function uploadPlan(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const asOf = document.getElementById("as-of").value;
  if (asOf) {
    form.append("as_of", asOf);
  }
  form.append("skip_invalid_lots", document.getElementById("skip-invalid").checked ? "true" : "false");
  form.append("dry_run", document.getElementById("dry-run").checked ? "true" : "false");
  const headers = { Accept: "application/json" };
  if (tokenInput.value) {
    headers.Authorization = `Bearer ${tokenInput.value}`;
  }
  showMessage("upload-message", `Uploading ${file.name}…`);
  document.getElementById("report").hidden = true;
  let response;
  let body;
  try {
    response = await fetch("/api/plans", { method: "POST", body: form, headers });
    body = await response.json();
  } catch (error) {
    showMessage("upload-message", `Upload failed: ${error.message}`, true);
    return;
  }
  if (body.status === undefined) {
    showMessage("upload-message", `Upload failed (HTTP ${response.status}): ${body.detail}`, true);
    return;
  }
  showMessage("upload-message", "");
  showReport(body);
}

function showReport(report) {
  const pairs = [
    ["Status", report.status + (report.dry_run ? " (dry run)" : ""), `status-${report.status}`],
    ["File", report.file],
    ["Plan", report.plan_id ?? "none"],
    ["Lots accepted", report.lots.accepted],
    ["Lots rejected", report.lots.rejected],
    ["Batches", report.batches],
    ["Errors", report.errors.length],
    ["Warnings", report.warnings.length],
  ];
  fillSummary(document.getElementById("report-summary"), pairs);
  const tbody = document.querySelector("#problems tbody");
  clear(tbody);
  problemRows(tbody, report.errors, "error");
  problemRows(tbody, report.warnings, "warning");
  document.getElementById("report").hidden = false;
  if (report.plan_id !== null && !report.dry_run) {
    const link = element("a", `Open plan ${report.plan_id}`);
    link.href = `#plan/${report.plan_id}`;
    document.getElementById("upload-message").appendChild(link);
  }
}

// ---- Calendar -------------------------------------------------------------

async function loadPlanChoices() {
  const select = document.getElementById("calendar-plan");
  const plans = await getJson("/api/plans");
  const chosen = select.value;
  while (select.options.length > 1) {
    select.remove(1);
  }
  for (const plan of plans) {
    const option = element("option", `${plan.plan_id}: ${plan.file}`);
    option.value = String(plan.plan_id);
    select.appendChild(option);
  }
  select.value = chosen;
}

document.getElementById("calendar-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadCalendar();
});

async function loadCalendar() {
  const params = new URLSearchParams();
  const plan = document.getElementById("calendar-plan").value;
  const from = document.getElementById("calendar-from").value;
  const to = document.getElementById("calendar-to").value;
  if (plan) params.set("plan", plan);
  if (from) params.set("from", from);
  if (to) params.set("to", to);
  showMessage("calendar-message", "Loading…");
  try {
    drawCalendar(await getJson(`/api/calendar?${params}`));
  } catch (error) {
    showMessage("calendar-message", `Cannot load the calendar: ${error.message}`, true);
  }
}

function dayList(first, last) {
  const days = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  for (let time = Date.parse(`${first}T00:00:00Z`); time <= end && days.length < MAX_CALENDAR_DAYS; time += DAY_MS) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}

function heatColour(count, maxCount) {
  const share = maxCount ? count / maxCount : 0;
  const lightness = Math.round(95 - share * 60);
  return `hsl(130, 45%, ${lightness}%)`;
}

function cellDescription(cell, farmName) {
  const cultivars = cell.cultivars.map((item) => `${item.cultivar}: ${item.batches}`).join(", ");
  const recipes = cell.recipes
    .map((item) => `recipe ${item.recipe_id} v${item.recipe_version}: ${item.batches}`)
    .join(", ");
  return `${cell.date}, ${farmName}: ${cell.batches} batches\nCultivars: ${cultivars}\nRecipes: ${recipes}`;
}

function drawCalendar(calendar) {
  const table = document.getElementById("calendar");
  clear(table);
  document.getElementById("calendar-detail").hidden = true;
  if (!calendar.cells.length) {
    showMessage("calendar-message", "No batches in this range.");
    return;
  }
  const dates = calendar.cells.map((cell) => cell.date).sort();
  const days = dayList(dates[0], dates[dates.length - 1]);
  const lastShown = days[days.length - 1];
  showMessage(
    "calendar-message",
    lastShown < dates[dates.length - 1] ? `Showing the first ${MAX_CALENDAR_DAYS} days; narrow the range to see later ones.` : "",
  );
  const byKey = new Map(calendar.cells.map((cell) => [`${cell.date}|${cell.farm_id}`, cell]));
  const maxCount = Math.max(...calendar.cells.map((cell) => cell.batches));

  const head = document.createElement("tr");
  head.appendChild(element("th", "Farm"));
  for (const day of days) {
    head.appendChild(element("th", day.slice(5), "day")).title = day;
  }
  table.appendChild(head);

  for (const farm of calendar.farms) {
    const farmName = farm.name ? `${farm.farm_id} ${farm.name}` : `farm ${farm.farm_id}`;
    const tr = document.createElement("tr");
    tr.appendChild(element("th", farmName));
    for (const day of days) {
      const cell = byKey.get(`${day}|${farm.farm_id}`);
      const td = element("td", cell ? cell.batches : "");
      if (cell) {
        td.style.background = heatColour(cell.batches, maxCount);
        td.title = cellDescription(cell, farmName);
        td.addEventListener("click", () => showCellDetail(td, cell, farmName));
      } else {
        td.className = "empty";
      }
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
}

function showCellDetail(td, cell, farmName) {
  for (const selected of document.querySelectorAll("#calendar td.selected")) {
    selected.classList.remove("selected");
  }
  td.classList.add("selected");
  const detail = document.getElementById("calendar-detail");
  clear(detail);
  detail.appendChild(element("h3", `${cell.date}, ${farmName}: ${cell.batches} batches`));
  const cultivars = element("table");
  cultivars.appendChild(row([element("strong", "Cultivar"), element("strong", "Batches")]));
  for (const item of cell.cultivars) cultivars.appendChild(row([item.cultivar, item.batches]));
  const recipes = element("table");
  recipes.appendChild(row([element("strong", "Recipe"), element("strong", "Version"), element("strong", "Batches")]));
  for (const item of cell.recipes) recipes.appendChild(row([item.recipe_id, item.recipe_version, item.batches]));
  detail.appendChild(cultivars);
  detail.appendChild(recipes);
  detail.hidden = false;
}

// ---- Queues ----------------------------------------------------------------

async function loadQueues() {
  const tbody = document.querySelector("#queues tbody");
  clear(tbody);
  try {
    const rows = await getJson("/api/status");
    showMessage("queues-message", rows.length ? "" : "No batches yet.");
    for (const item of rows) {
      const byStatus = Object.entries(item.by_status)
        .filter(([, count]) => count)
        .map(([name, count]) => `${name}: ${count}`)
        .join(", ");
      tbody.appendChild(row([item.date, item.queue_depth, item.dead_lettered, item.total, byStatus]));
    }
  } catch (error) {
    showMessage("queues-message", `Cannot load the queues: ${error.message}`, true);
  }
}

// ---- Plans -----------------------------------------------------------------

async function loadPlans() {
  const tbody = document.querySelector("#plans tbody");
  clear(tbody);
  try {
    const plans = await getJson("/api/plans");
    showMessage("plans-message", plans.length ? "" : "No plans yet; upload one.");
    for (const plan of plans) {
      const link = element("a", plan.plan_id);
      link.href = `#plan/${plan.plan_id}`;
      tbody.appendChild(
        row([link, plan.file, plan.status, plan.as_of, plan.lots, plan.rejected_lots, plan.batches, plan.created_at]),
      );
    }
  } catch (error) {
    showMessage("plans-message", `Cannot load the plans: ${error.message}`, true);
  }
}

let planOffset = 0;
let planShown = null;

function sequenceText(sequence) {
  if (!sequence.length) {
    return "no batches yet";
  }
  return sequence
    .map((step) => `${step.sequence}: recipe ${step.recipe_id} v${step.recipe_version} (${step.source})`)
    .join("\n");
}

async function loadPlan(planId, offset) {
  planShown = planId;
  planOffset = offset;
  document.getElementById("plan-title").textContent = `Plan ${planId}`;
  const lotsBody = document.querySelector("#plan-lots tbody");
  const warningsBody = document.querySelector("#plan-warnings tbody");
  clear(lotsBody);
  clear(warningsBody);
  let plan;
  try {
    plan = await getJson(`/api/plans/${encodeURIComponent(planId)}?limit=${LOTS_PER_PAGE}&offset=${offset}`);
  } catch (error) {
    showMessage("plan-message", `Cannot load plan ${planId}: ${error.message}`, true);
    return;
  }
  showMessage("plan-message", "");
  fillSummary(document.getElementById("plan-summary"), [
    ["File", plan.file],
    ["Status", plan.status, `status-${plan.status}`],
    ["As of", plan.as_of],
    ["Lots", plan.lots],
    ["Rejected lots", plan.rejected_lots],
    ["Batches", plan.batches],
    ["Created", plan.created_at],
  ]);
  problemRows(warningsBody, plan.warnings, "warning");
  for (const lot of plan.rejected_lot_details) {
    const problems = lot.errors || [];
    problemRows(warningsBody, problems, "error");
  }
  for (const lot of plan.lot_details) {
    const sequence = element("pre", sequenceText(lot.recipe_sequence), "sequence");
    lotsBody.appendChild(row([lot.row, lot.cultivar, lot.farm_id, lot.scheduled_date, lot.crop_count, sequence]));
  }
  const page = plan.lot_page;
  const last = Math.min(page.offset + plan.lot_details.length, page.total);
  document.getElementById("lots-range").textContent = `Lots ${page.total ? page.offset + 1 : 0}–${last} of ${page.total}`;
  document.getElementById("lots-previous").disabled = page.offset === 0;
  document.getElementById("lots-next").disabled = last >= page.total;
}

document.getElementById("lots-previous").addEventListener("click", () => {
  loadPlan(planShown, Math.max(0, planOffset - LOTS_PER_PAGE));
});
document.getElementById("lots-next").addEventListener("click", () => {
  loadPlan(planShown, planOffset + LOTS_PER_PAGE);
});

// ---- Routing -----------------------------------------------------------------

function showView(name) {
  for (const view of document.querySelectorAll(".view")) {
    view.hidden = view.id !== `view-${name}`;
  }
}

function route() {
  const pathPlan = window.location.pathname.match(/^\/plans\/(\d+)$/);
  const hashPlan = window.location.hash.match(/^#plan\/(\d+)$/);
  let planId = null;
  if (hashPlan) {
    planId = hashPlan[1];
  } else if (pathPlan && !window.location.hash) {
    planId = pathPlan[1];
  }
  if (planId) {
    showView("plan");
    loadPlan(planId, 0);
    return;
  }
  const name = window.location.hash.slice(1) || "upload";
  if (name === "calendar") {
    showView("calendar");
    loadPlanChoices().then(loadCalendar, (error) => showMessage("calendar-message", error.message, true));
  } else if (name === "queues") {
    showView("queues");
    loadQueues();
  } else if (name === "plans") {
    showView("plans");
    loadPlans();
  } else {
    showView("upload");
  }
}

window.addEventListener("hashchange", route);
route();
