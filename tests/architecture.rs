//! The architecture, checked: the import graph of `src/` at file-module granularity has no
//! cycle, imports only go down the layer table below, and features do not import each other.
//!
//! docs/ARCHITECTURE.md describes the same layers in words; change both together.
//!
//! The graph is read from the source text, not from the compiler: `use crate::…` (grouped and
//! renamed too), `super::…`/`self::…` paths, paths naming a child module (`store::lock` in
//! `children/mod.rs`), and inline paths such as `crate::db::Db` anywhere in code. Comments, doc
//! comments and string literals are skipped, and so are `crate::some_macro!` invocations
//! (`#[macro_export]` macros live at the crate root). A path counts as an import of the longest
//! module that prefixes it: `crate::audit::AuditEvent` is an import of `audit` (its `mod.rs`).
//! What a re-export (`pub use`) re-exports is not followed; the re-exporting module's own
//! imports are.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

/// One row of the layer table: the modules whose path starts with one of `prefixes` (whole
/// segments: `db` covers `db` and `db::schema`, not `dbx`) belong to layer `rank`. A module may
/// import its own layer or any lower one. `"crate"` is the crate root (`lib.rs`, `main.rs`).
struct Layer {
    rank: u8,
    name: &'static str,
    prefixes: &'static [&'static str],
}

const LAYERS: &[Layer] = &[
    Layer {
        rank: 0,
        name: "base",
        prefixes: &["error", "clock"],
    },
    Layer {
        rank: 1,
        name: "domain",
        prefixes: &["domain", "rules"],
    },
    Layer {
        rank: 2,
        name: "db",
        prefixes: &["db"],
    },
    Layer {
        rank: 3,
        name: "audit",
        prefixes: &["audit"],
    },
    Layer {
        rank: 4,
        name: "access",
        prefixes: &["auth", "policy", "access", "state", "config"],
    },
    Layer {
        rank: 5,
        name: "http",
        prefixes: &["http"],
    },
    Layer {
        rank: FEATURES,
        name: "features",
        prefixes: &[
            "health",
            "users",
            "units",
            "facilities",
            "children",
            "placements",
            "contacts",
            "plans",
            "reports",
            "changes",
            "webhooks",
            "service_accounts",
            "audit_review",
            "access_requests",
            "claims",
            "sign_in",
            "calendar",
        ],
    },
    Layer {
        rank: 7,
        name: "entry",
        prefixes: &[
            "crate",
            "cli",
            "commands",
            "startup",
            "routes",
            "demo",
            "telemetry",
        ],
    },
];

/// The features' layer: a feature shares what lies below it and imports no other feature.
const FEATURES: u8 = 6;

/// Feature → feature imports that are allowed anyway, as (importing feature, imported feature),
/// each with a comment saying why. Keep it short: a concept several features use belongs to a
/// layer they share.
const FEATURE_IMPORTS_ALLOWED: &[(&str, &str)] = &[];

// ---------------------------------------------------------------------------------------------
// The checks.

#[test]
fn no_import_cycles() {
    let graph = Graph::of_src();
    let mut report = String::new();
    for component in graph.cycles() {
        report.push_str(&graph.describe_cycle(&component));
    }
    assert!(
        report.is_empty(),
        "\nImport cycles among src/ modules (each block is one strongly connected component; \
         cut the imports that go up the layer table to break it):\n\n{report}"
    );
}

#[test]
fn every_module_is_in_the_layer_table() {
    let graph = Graph::of_src();
    let unplaced: Vec<String> = graph
        .modules
        .iter()
        .filter(|module| layer_of(module).is_none())
        .map(|module| format!("  {} ({})\n", display(module), graph.files[module]))
        .collect();
    assert!(
        unplaced.is_empty(),
        "\nModules in no layer: add each to the layer table at the top of tests/architecture.rs \
         (and to docs/ARCHITECTURE.md):\n{}",
        unplaced.concat()
    );
}

#[test]
fn imports_only_go_down_the_layers() {
    let graph = Graph::of_src();
    let mut report = String::new();
    for ((from, to), sites) in &graph.edges {
        let (Some(from_layer), Some(to_layer)) = (layer_of(from), layer_of(to)) else {
            continue; // reported by every_module_is_in_the_layer_table
        };
        if to_layer.rank > from_layer.rank {
            report.push_str(&describe_edge(from, to, sites));
        }
    }
    assert!(
        report.is_empty(),
        "\nImports that go up the layer table (a module may import its own layer or a lower \
         one; see LAYERS in tests/architecture.rs):\n\n{report}"
    );
}

#[test]
fn features_do_not_import_each_other() {
    let graph = Graph::of_src();
    let mut report = String::new();
    for ((from, to), sites) in &graph.edges {
        let (Some(from_feature), Some(to_feature)) = (feature_of(from), feature_of(to)) else {
            continue;
        };
        if from_feature != to_feature
            && !FEATURE_IMPORTS_ALLOWED.contains(&(from_feature, to_feature))
        {
            report.push_str(&describe_edge(from, to, sites));
        }
    }
    assert!(
        report.is_empty(),
        "\nFeatures importing another feature (move what both need to a layer they share, or \
         allow the pair in FEATURE_IMPORTS_ALLOWED with a reason):\n\n{report}"
    );
}

// ---------------------------------------------------------------------------------------------
// The layer table, looked up.

/// A module path: `["audit", "writer"]`; the crate root is `[]`.
type Module = Vec<String>;

/// The longest a request handler may be. A handler reads parse → open/authorize → store call →
/// view; what is longer belongs in the feature's `input.rs`, `store.rs`, `checks.rs` or
/// `view.rs`, or in a helper of the access layer.
const MAX_HANDLER_LINES: usize = 60;

#[test]
fn every_handler_is_short() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut report = String::new();
    for file in files {
        let path = file.to_string_lossy().replace('\\', "/");
        let module = module_of_file(path.trim_start_matches("src/"));
        if feature_of(&module).is_none() {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let lines: Vec<&str> = text.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let Some(name) = line.strip_prefix("pub async fn ") else {
                continue;
            };
            let name = name.split(['(', '<']).next().unwrap_or(name);
            // rustfmt closes a top-level function with a `}` alone at column 0.
            let length = lines[start..]
                .iter()
                .position(|l| *l == "}")
                .map_or(lines.len() - start, |end| end + 1);
            if length >= MAX_HANDLER_LINES {
                let _ = writeln!(report, "  {path}:{} {name}: {length} lines", start + 1);
            }
        }
    }
    assert!(
        report.is_empty(),
        "\nHandlers of {MAX_HANDLER_LINES} lines or more (move input types, checks and SQL out \
         of them):\n{report}"
    );
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// The layer and the table prefix a module falls under (the longest prefix that matches).
fn placement(module: &[String]) -> Option<(&'static Layer, &'static str)> {
    let mut best: Option<(&'static Layer, &'static str, usize)> = None;
    for layer in LAYERS {
        for &prefix in layer.prefixes {
            let segments: Vec<&str> = if prefix == "crate" {
                Vec::new()
            } else {
                prefix.split("::").collect()
            };
            let matches = if segments.is_empty() {
                module.is_empty() // the root only, never as a prefix of everything
            } else {
                module.len() >= segments.len()
                    && segments.iter().zip(module).all(|(a, b)| *a == b.as_str())
            };
            if matches && best.is_none_or(|(_, _, len)| segments.len() > len) {
                best = Some((layer, prefix, segments.len()));
            }
        }
    }
    best.map(|(layer, prefix, _)| (layer, prefix))
}

fn layer_of(module: &[String]) -> Option<&'static Layer> {
    placement(module).map(|(layer, _)| layer)
}

fn feature_of(module: &[String]) -> Option<&'static str> {
    placement(module)
        .filter(|(layer, _)| layer.rank == FEATURES)
        .map(|(_, prefix)| prefix)
}

fn layer_label(module: &[String]) -> String {
    layer_of(module).map_or_else(
        || "no layer".into(),
        |layer| format!("{} {}", layer.rank, layer.name),
    )
}

fn describe_edge(from: &Module, to: &Module, sites: &[Site]) -> String {
    let mut text = format!(
        "  {} [{}] -> {} [{}]\n",
        display(from),
        layer_label(from),
        display(to),
        layer_label(to)
    );
    let mut last_line = None;
    for site in sites {
        // One line per source line: `use crate::a::{self, B}` is one import.
        if last_line != Some((&site.file, site.line)) {
            let _ = writeln!(text, "      {}:{}  {}", site.file, site.line, site.path);
        }
        last_line = Some((&site.file, site.line));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// The graph.

/// Where an import is written: file, line and the path as written (`crate::startup::AppState`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Site {
    file: String,
    line: usize,
    path: String,
}

struct Graph {
    modules: BTreeSet<Module>,
    /// The file each module was read from, for messages.
    files: BTreeMap<Module, String>,
    /// (importer, imported) → every place that import is written.
    edges: BTreeMap<(Module, Module), Vec<Site>>,
}

impl Graph {
    fn of_src() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        rust_files(&root.join("src"), &mut files);
        files.sort();
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|path| {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
                    panic!("reading {relative}: {e}");
                });
                (relative, text)
            })
            .collect();
        Self::of(&sources)
    }

    /// The graph of `(path relative to the crate, source)` pairs; paths start with `src/`.
    fn of(sources: &[(String, String)]) -> Self {
        let mut modules = BTreeSet::new();
        let mut files = BTreeMap::new();
        for (file, _) in sources {
            let module = module_of_file(file);
            files.entry(module.clone()).or_insert_with(|| file.clone());
            modules.insert(module);
        }
        modules.insert(Vec::new());
        let mut edges: BTreeMap<(Module, Module), Vec<Site>> = BTreeMap::new();
        for (file, text) in sources {
            let from = module_of_file(file);
            for (to, line, path) in imports(&from, file.ends_with("main.rs"), text, &modules) {
                edges.entry((from.clone(), to)).or_default().push(Site {
                    file: file.clone(),
                    line,
                    path,
                });
            }
        }
        Self {
            modules,
            files,
            edges,
        }
    }

    fn successors<'a>(&'a self, module: &'a Module) -> impl Iterator<Item = &'a Module> + 'a {
        self.edges
            .range((module.clone(), Vec::new())..)
            .take_while(move |((from, _), _)| from == module)
            .map(|((_, to), _)| to)
    }

    /// The strongly connected components with more than one module (Tarjan), sorted.
    fn cycles(&self) -> Vec<Vec<Module>> {
        struct Tarjan<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g Module, usize>,
            low: BTreeMap<&'g Module, usize>,
            stack: Vec<&'g Module>,
            on_stack: BTreeSet<&'g Module>,
            components: Vec<Vec<Module>>,
        }
        impl<'g> Tarjan<'g> {
            fn visit(&mut self, module: &'g Module) {
                let n = self.index.len();
                self.index.insert(module, n);
                self.low.insert(module, n);
                self.stack.push(module);
                self.on_stack.insert(module);
                for next in self.graph.successors(module) {
                    if !self.index.contains_key(next) {
                        self.visit(next);
                        let low = self.low[module].min(self.low[next]);
                        self.low.insert(module, low);
                    } else if self.on_stack.contains(next) {
                        let low = self.low[module].min(self.index[next]);
                        self.low.insert(module, low);
                    }
                }
                if self.low[module] == self.index[module] {
                    let mut component = Vec::new();
                    loop {
                        let member = self.stack.pop().unwrap();
                        self.on_stack.remove(member);
                        component.push(member.clone());
                        if member == module {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        self.components.push(component);
                    }
                }
            }
        }
        let mut tarjan = Tarjan {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            components: Vec::new(),
        };
        for module in &self.modules {
            if !tarjan.index.contains_key(module) {
                tarjan.visit(module);
            }
        }
        let mut components = tarjan.components;
        components.sort();
        components
    }

    /// The shortest path from `from` back to itself inside `within` (breadth first).
    fn shortest_cycle(&self, from: &Module, within: &BTreeSet<&Module>) -> Vec<Module> {
        let from = self.modules.get(from).expect("a known module");
        let mut came_from: BTreeMap<&Module, &Module> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(module) = queue.pop_front() {
            for next in self.successors(module) {
                if !within.contains(next) || came_from.contains_key(next) {
                    continue;
                }
                came_from.insert(next, module);
                if next == from {
                    let mut path = vec![from.clone()];
                    let mut at = came_from[from];
                    while at != from {
                        path.push(at.clone());
                        at = came_from[at];
                    }
                    path.push(from.clone());
                    path.reverse();
                    return path;
                }
                queue.push_back(next);
            }
        }
        unreachable!("a member of a strongly connected component lies on a cycle")
    }

    fn describe_cycle(&self, component: &[Module]) -> String {
        let within: BTreeSet<&Module> = component.iter().collect();
        let inside = |(from, to): &(Module, Module)| within.contains(from) && within.contains(to);
        // The keystones: the members the most other members import.
        let mut importers: BTreeMap<&Module, usize> = BTreeMap::new();
        for (from, to) in self.edges.keys().filter(|edge| inside(edge)) {
            if from != to {
                *importers.entry(to).or_default() += 1;
            }
        }
        let mut keystones: Vec<(&Module, usize)> = importers.into_iter().collect();
        keystones.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        keystones.truncate(3);
        let named: Vec<String> = keystones
            .iter()
            .map(|(module, n)| format!("{} (by {n})", display(module)))
            .collect();
        let mut text = format!(
            "  cycle of {} modules; most imported inside it: {}\n",
            component.len(),
            named.join(", ")
        );
        let mut shown: Vec<BTreeSet<Module>> = Vec::new();
        for (keystone, _) in &keystones {
            let cycle = self.shortest_cycle(keystone, &within);
            let members: BTreeSet<Module> = cycle.iter().cloned().collect();
            if shown.contains(&members) {
                continue;
            }
            shown.push(members);
            let path: Vec<String> = cycle.iter().map(|m| display(m)).collect();
            let _ = writeln!(text, "  a shortest cycle: {}", path.join(" -> "));
        }
        text.push_str("  each member and what it imports inside the cycle:\n");
        for member in component {
            let targets: Vec<String> = self
                .successors(member)
                .filter(|to| within.contains(to))
                .map(|to| display(to))
                .collect();
            let _ = writeln!(
                text,
                "    {} [{}] -> {}",
                display(member),
                layer_label(member),
                targets.join(", ")
            );
        }
        text.push('\n');
        text
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `src/a/mod.rs` is `a`; `src/lib.rs` and
/// `src/main.rs` are the root.
fn module_of_file(file: &str) -> Module {
    let relative = file.strip_prefix("src/").unwrap_or(file);
    let relative = relative.strip_suffix(".rs").unwrap_or(relative);
    let mut segments: Vec<String> = relative.split('/').map(str::to_owned).collect();
    if segments.last().is_some_and(|last| last == "mod") {
        segments.pop();
    }
    if segments == ["lib"] || segments == ["main"] {
        segments.clear();
    }
    segments
}

// ---------------------------------------------------------------------------------------------
// Reading one file: a small lexer that drops comments and literals, then a pass over its
// tokens that finds paths.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Bang,
    Star,
    /// Anything else, literals included: it only ends a path.
    Other,
}

fn lex(text: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => {
                i = skip_string(&chars, i + 1, None, &mut line);
                tokens.push((Tok::Other, line));
            }
            '\'' => {
                // A character literal, or a lifetime or label whose name lexes as an identifier.
                i = skip_char(&chars, i).unwrap_or(i + 1);
                tokens.push((Tok::Other, line));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // String and character literals with a prefix: b"…", r"…", r#"…"#, br"…", c"…", b'x'.
                if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                    i = skip_string(&chars, i + 1, None, &mut line);
                    tokens.push((Tok::Other, line));
                    continue;
                }
                if word == "b" && at(i) == '\'' {
                    if let Some(end) = skip_char(&chars, i) {
                        i = end;
                        tokens.push((Tok::Other, line));
                        continue;
                    }
                }
                if matches!(word.as_str(), "r" | "br" | "cr") {
                    let mut hashes = 0;
                    while at(i + hashes) == '#' {
                        hashes += 1;
                    }
                    if at(i + hashes) == '"' {
                        i = skip_string(&chars, i + hashes + 1, Some(hashes), &mut line);
                        tokens.push((Tok::Other, line));
                        continue;
                    }
                }
                tokens.push((Tok::Ident(word), line));
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push((Tok::Other, line));
            }
            ':' if at(i + 1) == ':' => {
                tokens.push((Tok::PathSep, line));
                i += 2;
            }
            _ => {
                let tok = match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    ';' => Tok::Semi,
                    '!' => Tok::Bang,
                    '*' => Tok::Star,
                    _ => Tok::Other,
                };
                tokens.push((tok, line));
                i += 1;
            }
        }
    }
    tokens
}

/// Skips a character literal starting at the quote `i` (`'x'`, `'\n'`, `'\u{e9}'`) and returns
/// the index after it; `None` when the quote starts a lifetime or a label instead.
fn skip_char(chars: &[char], i: usize) -> Option<usize> {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('\\'), _) => {
            let close = (i + 3..chars.len()).find(|&k| chars[k] == '\'')?;
            Some(close + 1)
        }
        (Some(_), Some('\'')) => Some(i + 3),
        _ => None,
    }
}

/// Skips a string body from `i` (after the opening quote) and returns the index after it. A raw
/// string (`raw_hashes` is `Some`) has no escapes and ends at `"` followed by that many `#`.
fn skip_string(chars: &[char], mut i: usize, raw_hashes: Option<usize>, line: &mut usize) -> usize {
    let hashes = raw_hashes.unwrap_or(0);
    while i < chars.len() {
        match chars[i] {
            '\\' if raw_hashes.is_none() => {
                if chars.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' if (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) => {
                return i + 1 + hashes;
            }
            c => {
                if c == '\n' {
                    *line += 1;
                }
                i += 1;
            }
        }
    }
    i
}

/// The modules that the source of module `from` imports, each with the line and the path as
/// written; imports of itself or of its ancestors are left out. In `main.rs`, `trygg::` is
/// the library's root.
fn imports(
    from: &[String],
    is_main: bool,
    text: &str,
    modules: &BTreeSet<Module>,
) -> Vec<(Module, usize, String)> {
    let tokens = lex(text);
    let ident = |i: usize| match tokens.get(i) {
        Some((Tok::Ident(word), _)) => Some(word.as_str()),
        _ => None,
    };
    let tok = |i: usize| tokens.get(i).map(|(t, _)| t);
    let mut found = Vec::new();
    // Inline modules (`mod tests { … }`) change what `super` and `self` mean.
    let mut scope: Vec<String> = from.to_vec();
    let mut inline_mods: Vec<usize> = Vec::new(); // brace depth at which each inline mod opened
    let mut depth = 0usize;
    let mut pending_mod: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Tok::Open => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    scope.push(name);
                    inline_mods.push(depth);
                }
            }
            Tok::Close => {
                if inline_mods.last() == Some(&depth) {
                    inline_mods.pop();
                    scope.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Semi => pending_mod = None,
            Tok::Ident(word) if word == "mod" => {
                if let Some(name) = ident(i + 1) {
                    pending_mod = Some(name.to_owned());
                    i += 1;
                }
            }
            Tok::Ident(word) if word == "use" => {
                let mut paths = Vec::new();
                let mut at = i + 1;
                use_tree(&tokens, &mut at, &[], &mut paths);
                for (path, line) in paths {
                    if let Some(to) = resolve(&scope, is_main, &path, modules) {
                        found.push((to, line, path.join("::")));
                    }
                }
                while at < tokens.len() && tokens[at].0 != Tok::Semi {
                    at += 1;
                }
                i = at;
            }
            Tok::Ident(first)
                if tok(i + 1) == Some(&Tok::PathSep)
                    && tok(i.wrapping_sub(1)) != Some(&Tok::PathSep) =>
            {
                let line = tokens[i].1;
                let mut path = vec![first.clone()];
                let mut at = i + 1;
                while tok(at) == Some(&Tok::PathSep) {
                    match ident(at + 1) {
                        Some(next) => path.push(next.to_owned()),
                        None => break,
                    }
                    at += 2;
                }
                let is_macro = tok(at) == Some(&Tok::Bang);
                if !is_macro {
                    if let Some(to) = resolve(&scope, is_main, &path, modules) {
                        found.push((to, line, path.join("::")));
                    }
                }
                i = at;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found.retain(|(to, _, _)| !from.starts_with(to));
    found
}

/// Reads one use tree from `at` (after `use`, or inside a group), adding each path it names to
/// `out` with its line: `crate::a::{b, c::{self, d as e}}` names `crate::a::b`, `crate::a::c`
/// and `crate::a::c::d`; a glob `crate::a::*` names `crate::a`.
fn use_tree(
    tokens: &[(Tok, usize)],
    at: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) {
    let mut path = prefix.to_vec();
    let mut line = tokens.get(*at).map_or(0, |(_, line)| *line);
    let mut first = true;
    loop {
        match tokens.get(*at) {
            Some((Tok::Ident(word), l)) => {
                line = *l;
                // `self` inside a group names the group's prefix.
                if !(first && word == "self" && !prefix.is_empty()) {
                    path.push(word.clone());
                }
                *at += 1;
                first = false;
                match tokens.get(*at).map(|(t, _)| t) {
                    Some(Tok::PathSep) => *at += 1,
                    Some(Tok::Ident(word)) if word == "as" => {
                        *at += 2;
                        out.push((path, line));
                        return;
                    }
                    _ => {
                        out.push((path, line));
                        return;
                    }
                }
            }
            Some((Tok::PathSep, _)) => *at += 1, // `use ::std::…`
            Some((Tok::Star, _)) => {
                *at += 1;
                out.push((path, line));
                return;
            }
            Some((Tok::Open, _)) => {
                *at += 1;
                loop {
                    match tokens.get(*at).map(|(t, _)| t) {
                        Some(Tok::Close) => {
                            *at += 1;
                            return;
                        }
                        Some(Tok::Comma) => *at += 1,
                        None | Some(Tok::Semi) => return,
                        Some(_) => use_tree(tokens, at, &path, out),
                    }
                }
            }
            _ => return,
        }
    }
}

/// The module a path imports: the longest module that prefixes it once `crate`, `super` and
/// `self` are resolved from `scope`. `None` for paths into other crates or to local items.
fn resolve(
    scope: &[String],
    is_main: bool,
    path: &[String],
    modules: &BTreeSet<Module>,
) -> Option<Module> {
    let first = path.first()?.as_str();
    let mut full: Vec<String> = match first {
        "crate" => Vec::new(),
        "trygg" if is_main => Vec::new(),
        "self" => scope.to_vec(),
        "super" => scope.to_vec(),
        _ => {
            // A child module in scope (`store::lock` in `children/mod.rs`), or not ours.
            let mut child = scope.to_vec();
            child.push(first.to_owned());
            if !modules.iter().any(|module| module.starts_with(&child)) {
                return None;
            }
            scope.to_vec()
        }
    };
    let mut rest = match first {
        "crate" | "self" | "trygg" => &path[1..],
        _ => path,
    };
    while rest.first().is_some_and(|segment| segment == "super") {
        full.pop();
        rest = &rest[1..];
    }
    full.extend(rest.iter().cloned());
    while !modules.contains(&full) {
        full.pop();
    }
    Some(full)
}

// ---------------------------------------------------------------------------------------------
// The reader, checked on small made-up crates.

#[cfg(test)]
mod reader {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect();
        Graph::of(&sources)
    }

    fn edges(graph: &Graph) -> Vec<(String, String)> {
        graph
            .edges
            .keys()
            .map(|(from, to)| (display(from), display(to)))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The modules of a small crate, each file empty unless given.
    fn crate_with(file: (&str, &str)) -> Graph {
        let mut files = vec![
            ("src/lib.rs", ""),
            ("src/a/mod.rs", ""),
            ("src/a/b.rs", ""),
            ("src/a/c/mod.rs", ""),
            ("src/a/c/d.rs", ""),
            ("src/x/mod.rs", ""),
            ("src/x/y.rs", ""),
            ("src/z.rs", ""),
        ];
        files.retain(|(path, _)| *path != file.0);
        files.push(file);
        graph(&files)
    }

    #[test]
    fn file_paths_name_modules() {
        assert_eq!(module_of_file("src/a/b.rs"), ["a", "b"]);
        assert_eq!(module_of_file("src/a/b/mod.rs"), ["a", "b"]);
        assert_eq!(module_of_file("src/a/mod.rs"), ["a"]);
        assert!(module_of_file("src/lib.rs").is_empty());
        assert!(module_of_file("src/main.rs").is_empty());
    }

    #[test]
    fn grouped_and_renamed_uses_name_every_module() {
        let g = crate_with((
            "src/z.rs",
            "use crate::{a::b as bee, x::{self, y::{Thing, other as o}}};\n\
             pub use crate::a::c::d::*;",
        ));
        assert_eq!(
            edges(&g),
            pairs(&[("z", "a::b"), ("z", "a::c::d"), ("z", "x"), ("z", "x::y")])
        );
    }

    #[test]
    fn a_path_to_an_item_names_the_module_holding_it() {
        let g = crate_with(("src/z.rs", "use crate::x::Item;\nuse crate::a::c::d::f::g;"));
        assert_eq!(edges(&g), pairs(&[("z", "a::c::d"), ("z", "x")]));
        assert_eq!(g.edges[&(vec!["z".into()], vec!["x".into()])][0].line, 1);
    }

    #[test]
    fn super_in_a_mod_rs_is_the_parent_of_its_folder() {
        let g = crate_with(("src/a/c/mod.rs", "use super::b::Thing;"));
        assert_eq!(edges(&g), pairs(&[("a::c", "a::b")]));
        let g = crate_with(("src/a/mod.rs", "use super::x::Thing;"));
        assert_eq!(edges(&g), pairs(&[("a", "x")]));
    }

    #[test]
    fn super_in_a_leaf_file_is_its_folder() {
        let g = crate_with((
            "src/a/c/d.rs",
            "use super::super::b;\nfn f() { super::Item; }",
        ));
        // `super` alone is `a::c`, an ancestor: not an import.
        assert_eq!(edges(&g), pairs(&[("a::c::d", "a::b")]));
    }

    #[test]
    fn super_inside_an_inline_module_is_the_file_itself() {
        let g = crate_with((
            "src/a/b.rs",
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::c::d;\n}\n\
             use super::x;",
        ));
        // `super::x` after the inline module is `a::x`, which does not exist: `a`, an ancestor.
        assert_eq!(edges(&g), pairs(&[("a::b", "a::c::d")]));
    }

    #[test]
    fn inline_paths_count_and_macros_do_not() {
        let g = crate_with((
            "src/z.rs",
            "fn f() -> crate::x::y::Z { crate::a::b::make(); crate::some_macro! {} }\n\
             crate::other_macro!(crate::a::c::Thing);",
        ));
        assert_eq!(
            edges(&g),
            pairs(&[("z", "a::b"), ("z", "a::c"), ("z", "x::y")])
        );
    }

    #[test]
    fn comments_and_strings_are_not_imports() {
        let text = [
            "// use crate::a::b;",
            "/// See [`crate::x::y`].",
            "/* crate::a::c /* nested crate::x */ crate::a",
            "   still a comment: crate::a::b */",
            "const S: &str = \"crate::x::y \\\" crate::a::b\";",
            "const R: &str = r#\"crate::a::b \" crate::a::c\"#;",
            "fn f<'a>(c: char, s: &'a str) -> bool { c == '\"' && s == \"crate::a\" }",
            "fn g() { crate::x::y::go() }",
        ]
        .join("\n");
        let g = crate_with(("src/z.rs", &text));
        assert_eq!(edges(&g), pairs(&[("z", "x::y")]));
        let sites = &g.edges[&(vec!["z".into()], vec!["x".into(), "y".into()])];
        assert_eq!(sites[0].line, 8);
    }

    #[test]
    fn child_modules_by_name_and_no_self_or_ancestor_edges() {
        let g = crate_with((
            "src/a/mod.rs",
            "mod b;\npub use b::Thing;\nuse self::c::d;\nuse crate::a::Own;\nuse std::fmt;\n\
             fn f() { serde::x(); }",
        ));
        assert_eq!(edges(&g), pairs(&[("a", "a::b"), ("a", "a::c::d")]));
        let g = crate_with(("src/a/c/d.rs", "use crate::a::c::Up;\nuse crate::Root;"));
        assert!(edges(&g).is_empty());
    }

    #[test]
    fn main_rs_names_the_library_by_its_name() {
        let g = crate_with(("src/main.rs", "use trygg::x::y;"));
        assert_eq!(edges(&g), pairs(&[("crate", "x::y")]));
    }

    #[test]
    fn a_cycle_is_found_with_its_shortest_path() {
        let g = graph(&[
            ("src/lib.rs", ""),
            ("src/p.rs", "use crate::q::X;"),
            ("src/q.rs", "use crate::r::X;"),
            ("src/r.rs", "use crate::p::X; use crate::q::Y;"),
            ("src/s.rs", "use crate::p::X;"),
        ]);
        let cycles = g.cycles();
        assert_eq!(cycles.len(), 1);
        let names: Vec<String> = cycles[0].iter().map(|m| display(m)).collect();
        assert_eq!(names, ["p", "q", "r"]);
        let text = g.describe_cycle(&cycles[0]);
        assert!(text.contains("most imported inside it: q (by 2)"), "{text}");
        assert!(text.contains("q -> r -> q"), "{text}");
    }

    #[test]
    fn the_layer_table_places_modules_by_whole_segments() {
        let module = |path: &str| -> Module { path.split("::").map(str::to_owned).collect() };
        assert_eq!(layer_of(&module("db::schema")).unwrap().rank, 2);
        assert_eq!(layer_of(&Vec::new()).unwrap().rank, 7);
        assert!(layer_of(&module("dbx")).is_none());
        assert_eq!(feature_of(&module("children::routes")), Some("children"));
        assert_eq!(feature_of(&module("http::json")), None);
    }
}
