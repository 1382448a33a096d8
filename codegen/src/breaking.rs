//! The breaking-change check: compares two schemas as the generator reads them and names every
//! change that old and new SDKs (or code written against them) would not survive.
//!
//! Each [`Finding`] names a [`Rule`] (documented with an example in `schema/BREAKING.md`), the
//! schema path, its impact on the wire (which direction, which SDKs) and on generated APIs, and
//! one line a person can act on. `cargo run -p natsbridge-codegen -- --breaking-against OLD`.

use std::fmt;

use crate::model::{DefaultValue, Enum, Field, FieldType, Model, StringFormat};

/// One SDK generated from the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sdk {
    /// `natsbridge` (std Rust).
    Std,
    /// `natsbridge-embedded` (no_std Rust, fixed capacities).
    NoStd,
    /// `nats_bridge.py` (CPython and MicroPython).
    Python,
}

impl Sdk {
    /// All three.
    pub const ALL: [Sdk; 3] = [Sdk::Std, Sdk::NoStd, Sdk::Python];

    /// The name in findings.
    pub fn as_str(self) -> &'static str {
        match self {
            Sdk::Std => "std",
            Sdk::NoStd => "no_std",
            Sdk::Python => "python",
        }
    }
}

/// Who sends and who receives in a wire break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// A sender on the old SDK (or an early edition), a receiver on the new one.
    OldToNew,
    /// A sender on the new SDK, a receiver still on the old one (devices in the field).
    NewToOld,
}

impl Direction {
    /// `old sender -> new receiver` / `new sender -> old receiver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::OldToNew => "old sender -> new receiver",
            Direction::NewToOld => "new sender -> old receiver",
        }
    }
}

/// How a change breaks the wire: a message from one side is refused or misread by the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireImpact {
    pub directions: Vec<Direction>,
    /// The receiving SDKs that refuse or misread (a lowered capacity: only no_std).
    pub receivers: Vec<Sdk>,
}

/// The category of a finding: `wire` and/or `api`, or `safe` when neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    pub wire: Option<WireImpact>,
    /// Code written against a generated SDK stops compiling or changes meaning; the SDKs whose
    /// generated API changes.
    pub api: Vec<Sdk>,
}

impl Impact {
    fn safe() -> Self {
        Impact {
            wire: None,
            api: Vec::new(),
        }
    }

    fn wire(directions: &[Direction], receivers: &[Sdk]) -> Self {
        Impact {
            wire: Some(WireImpact {
                directions: directions.to_vec(),
                receivers: receivers.to_vec(),
            }),
            api: Vec::new(),
        }
    }

    fn api(mut self, sdks: &[Sdk]) -> Self {
        self.api = sdks.to_vec();
        self
    }

    /// Neither wire nor api.
    pub fn is_safe(&self) -> bool {
        self.wire.is_none() && self.api.is_empty()
    }

    /// `wire`, `api`, `wire+api` or `safe`.
    pub fn category(&self) -> &'static str {
        match (self.wire.is_some(), !self.api.is_empty()) {
            (true, true) => "wire+api",
            (true, false) => "wire",
            (false, true) => "api",
            (false, false) => "safe",
        }
    }
}

macro_rules! rules {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The compatibility rules. `schema/BREAKING.md` documents each with an example.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Rule {
            $($(#[$doc])* $variant,)*
        }

        impl Rule {
            /// Every rule, in documentation order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// `FIELD_REMOVED`, ...
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Rule::$variant => $name,)*
                }
            }

            /// The rule called `name`.
            pub fn parse(name: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.as_str() == name)
            }
        }
    };
}

rules! {
    /// A field is gone.
    FieldRemoved => "FIELD_REMOVED",
    /// A field is new and has a default or is optional.
    FieldAdded => "FIELD_ADDED",
    /// A field is new and required without a default.
    RequiredWithoutDefaultAdded => "REQUIRED_WITHOUT_DEFAULT_ADDED",
    /// A field that had a default or was optional is now required without a default.
    DefaultRemoved => "DEFAULT_REMOVED",
    /// A field that had a default now has none and is optional.
    DefaultBecameOptional => "DEFAULT_BECAME_OPTIONAL",
    /// A field that was required without a default now has a default.
    DefaultAdded => "DEFAULT_ADDED",
    /// A required field without a default is now optional.
    RequiredBecameOptional => "REQUIRED_BECAME_OPTIONAL",
    /// An optional field now has a default.
    OptionalGotDefault => "OPTIONAL_GOT_DEFAULT",
    /// The default of a field changed.
    DefaultChanged => "DEFAULT_CHANGED",
    /// A field's JSON type changed incompatibly.
    FieldTypeChanged => "FIELD_TYPE_CHANGED",
    /// An integer became a wider integer or a number (`u64` to `i64`, an integer to `number`).
    FieldTypeWidened => "FIELD_TYPE_WIDENED",
    /// A field was renamed and its old key kept as an alias.
    FieldRenamed => "FIELD_RENAMED",
    /// A receive-side alias is gone.
    AliasRemoved => "ALIAS_REMOVED",
    /// A receive-side alias is new.
    AliasAdded => "ALIAS_ADDED",
    /// The key order of a structure changed.
    FieldOrderChanged => "FIELD_ORDER_CHANGED",
    /// A value of an enumeration is gone.
    EnumValueRemoved => "ENUM_VALUE_REMOVED",
    /// A closed enumeration has a new value.
    ClosedEnumValueAdded => "CLOSED_ENUM_VALUE_ADDED",
    /// An open enumeration has a new value.
    OpenEnumValueAdded => "OPEN_ENUM_VALUE_ADDED",
    /// A value senders sent became receive-only.
    EnumValueMadeReceiveOnly => "ENUM_VALUE_MADE_RECEIVE_ONLY",
    /// A receive-only value is now also sent.
    ReceiveOnlyValueNowSent => "RECEIVE_ONLY_VALUE_NOW_SENT",
    /// An alias of an enumeration value is gone.
    EnumAliasRemoved => "ENUM_ALIAS_REMOVED",
    /// An alias of an enumeration value is new.
    EnumAliasAdded => "ENUM_ALIAS_ADDED",
    /// A closed enumeration became open.
    EnumOpened => "ENUM_OPENED",
    /// An open enumeration became closed.
    EnumClosed => "ENUM_CLOSED",
    /// An `x-max-bytes` is lower.
    CapacityLowered => "CAPACITY_LOWERED",
    /// An `x-max-bytes` is higher.
    CapacityRaised => "CAPACITY_RAISED",
    /// A `maxItems` is lower.
    MaxItemsLowered => "MAX_ITEMS_LOWERED",
    /// A `maxItems` is higher.
    MaxItemsRaised => "MAX_ITEMS_RAISED",
    /// A string gained a `format` or changed it.
    FormatAdded => "FORMAT_ADDED",
    /// A string lost its `format`.
    FormatRemoved => "FORMAT_REMOVED",
    /// A string gained a `const` or changed it.
    ConstAdded => "CONST_ADDED",
    /// A string lost its `const`.
    ConstRemoved => "CONST_REMOVED",
    /// A generated type name changed (a `title`, a `$defs` key, an inline object's parent).
    GeneratedNameChanged => "GENERATED_NAME_CHANGED",
    /// A structure or an enumeration is gone.
    TypeRemoved => "TYPE_REMOVED",
    /// What a sender fills in changed (`x-sender-fills`).
    SenderFillChanged => "SENDER_FILL_CHANGED",
    /// What a reply takes from its request changed (`x-reply-fills`).
    ReplyFillChanged => "REPLY_FILL_CHANGED",
    /// A contract constant (`x-constants`) changed or is gone.
    ConstantChanged => "CONSTANT_CHANGED",
    /// A contract constant is new.
    ConstantAdded => "CONSTANT_ADDED",
    /// An error kind is gone.
    ErrorKindRemoved => "ERROR_KIND_REMOVED",
    /// An error kind is new.
    ErrorKindAdded => "ERROR_KIND_ADDED",
}

/// One change between the old and the new schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    /// JSON pointer into the new schema (into the old one for what is gone).
    pub path: String,
    pub impact: Impact,
    /// What changed and what to do about it, in one line.
    pub advice: String,
}

impl Finding {
    /// `RULE PATH category [directions] [receivers] [api: sdks]`, compact, for tests.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} {} {}",
            self.rule.as_str(),
            self.path,
            self.impact.category()
        );
        if let Some(wire) = &self.impact.wire {
            for d in &wire.directions {
                out.push_str(match d {
                    Direction::OldToNew => " old->new",
                    Direction::NewToOld => " new->old",
                });
            }
            let sdks: Vec<&str> = wire.receivers.iter().map(|s| s.as_str()).collect();
            out.push_str(&format!(" receivers:{}", sdks.join(",")));
        }
        if !self.impact.api.is_empty() {
            let sdks: Vec<&str> = self.impact.api.iter().map(|s| s.as_str()).collect();
            out.push_str(&format!(" api:{}", sdks.join(",")));
        }
        out
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{}",
            self.rule.as_str(),
            self.path,
            self.impact.category()
        )?;
        if let Some(wire) = &self.impact.wire {
            let directions: Vec<&str> = wire.directions.iter().map(|d| d.as_str()).collect();
            let sdks: Vec<&str> = wire.receivers.iter().map(|s| s.as_str()).collect();
            write!(
                f,
                "; wire: {}; receivers: {}",
                directions.join(", "),
                sdks.join(", ")
            )?;
        }
        if !self.impact.api.is_empty() {
            let sdks: Vec<&str> = self.impact.api.iter().map(|s| s.as_str()).collect();
            write!(f, "; api: {}", sdks.join(", "))?;
        }
        write!(f, "]: {}", self.advice)
    }
}

/// Where a structure is in a schema: its JSON pointer, for each structure name.
struct Places {
    pointers: Vec<(String, String)>,
}

impl Places {
    fn of(model: &Model, defs: &[String]) -> Self {
        let mut pointers = vec![(model.root().name.clone(), String::new())];
        for name in defs {
            pointers.push((name.clone(), format!("/$defs/{name}")));
        }
        // Inline structures hang under the field that declares them; walk until none is new.
        let mut changed = true;
        while changed {
            changed = false;
            for s in &model.structs {
                let Some(base) = pointers
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map(|(_, p)| p.clone())
                else {
                    continue;
                };
                for f in &s.fields {
                    let (inner, suffix) = match &f.ty {
                        FieldType::Struct(n) => (n.as_str(), ""),
                        FieldType::Array { .. } => match f.ty.struct_item() {
                            Some(n) => (n, "/items"),
                            None => continue,
                        },
                        _ => continue,
                    };
                    if !pointers.iter().any(|(n, _)| n == inner) {
                        pointers.push((
                            inner.to_string(),
                            format!("{base}/properties/{}{suffix}", f.name),
                        ));
                        changed = true;
                    }
                }
            }
        }
        Places { pointers }
    }

    fn of_struct(&self, name: &str) -> String {
        self.pointers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| format!("/$defs/{name}"))
    }
}

/// Compares `new` with `old`; `old_defs` and `new_defs` are the `$defs` keys of each schema
/// (to tell a `$defs` structure from an inline one when naming paths).
pub fn compare(old: &Model, old_defs: &[String], new: &Model, new_defs: &[String]) -> Vec<Finding> {
    let mut check = Check {
        old,
        new,
        old_places: Places::of(old, old_defs),
        new_places: Places::of(new, new_defs),
        findings: Vec::new(),
        visited: Vec::new(),
    };
    check.structure(&old.root().name, &new.root().name);
    check.enums();
    check.constants();
    check.error_kinds();
    check.findings
}

struct Check<'m> {
    old: &'m Model,
    new: &'m Model,
    old_places: Places,
    new_places: Places,
    findings: Vec<Finding>,
    /// Structure pairs already compared.
    visited: Vec<(String, String)>,
}

use Direction::{NewToOld, OldToNew};
const ALL: &[Sdk] = &Sdk::ALL;
const RUST: &[Sdk] = &[Sdk::Std, Sdk::NoStd];

impl Check<'_> {
    fn push(&mut self, rule: Rule, path: String, impact: Impact, advice: String) {
        self.findings.push(Finding {
            rule,
            path,
            impact,
            advice,
        });
    }

    fn structure(&mut self, old_name: &str, new_name: &str) {
        let pair = (old_name.to_string(), new_name.to_string());
        if self.visited.contains(&pair) {
            return;
        }
        self.visited.push(pair);
        let old = self.old.struct_named(old_name).clone();
        let new = self.new.struct_named(new_name).clone();
        let base = self.new_places.of_struct(new_name);
        if old_name != new_name {
            self.push(
                Rule::GeneratedNameChanged,
                base.clone(),
                Impact::safe().api(ALL),
                format!("the type {old_name} is now called {new_name} in every SDK; keep the old name (a title) or update code that names it"),
            );
        }
        let mut matched_new: Vec<&str> = Vec::new();
        let mut order_old: Vec<&str> = Vec::new();
        for of in &old.fields {
            let renamed = new
                .fields
                .iter()
                .find(|nf| nf.name != of.name && nf.aliases.contains(&of.name));
            match new.field(&of.name).or(renamed) {
                Some(nf) => {
                    matched_new.push(&nf.name);
                    order_old.push(&nf.name);
                    let path = format!("{base}/properties/{}", nf.name);
                    if nf.name != of.name {
                        self.push(
                            Rule::FieldRenamed,
                            path.clone(),
                            Impact::wire(&[NewToOld], ALL).api(ALL),
                            format!("\"{}\" is now sent as \"{}\": old receivers do not read the new key; keep sending both during a transition, or keep the old name", of.name, nf.name),
                        );
                    }
                    self.field(of, nf, &path);
                }
                None => {
                    let path = format!(
                        "{}/properties/{}",
                        self.old_places.of_struct(old_name),
                        of.name
                    );
                    let required = of.default.is_none() && !of.optional;
                    let impact = if required {
                        Impact::wire(&[NewToOld], ALL).api(ALL)
                    } else {
                        Impact::safe().api(ALL)
                    };
                    let advice = if required {
                        format!(
                            "old receivers require \"{}\" and refuse new messages without it (missing_key); keep the field (with a default) until every receiver is upgraded",
                            of.name
                        )
                    } else {
                        format!(
                            "\"{}\" is gone from every SDK's API; old receivers read their default ({}) instead; keep it, or deprecate it in its description first",
                            of.name,
                            describe_default(of)
                        )
                    };
                    self.push(Rule::FieldRemoved, path, impact, advice);
                }
            }
        }
        for nf in &new.fields {
            if matched_new.contains(&nf.name.as_str()) {
                continue;
            }
            let path = format!("{base}/properties/{}", nf.name);
            if nf.default.is_none() && !nf.optional {
                self.push(
                    Rule::RequiredWithoutDefaultAdded,
                    path,
                    Impact::wire(&[OldToNew], ALL).api(ALL),
                    format!("new receivers refuse messages from old senders, which lack \"{}\" (missing_key); give it a default or make it optional", nf.name),
                );
            } else {
                self.push(
                    Rule::FieldAdded,
                    path,
                    Impact::safe(),
                    format!("\"{}\" is new; old receivers ignore it and new receivers read {} from old senders", nf.name, describe_default(nf)),
                );
            }
        }
        let order_new: Vec<&str> = new
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .filter(|n| order_old.contains(n))
            .collect();
        if order_new != order_old {
            self.push(
                Rule::FieldOrderChanged,
                base,
                Impact::safe(),
                "keys are written in a new order: receivers do not mind, but canonical bytes change; regenerate the golden messages".to_string(),
            );
        }
    }

    fn field(&mut self, old: &Field, new: &Field, path: &str) {
        self.presence(old, new, path);
        for alias in &old.aliases {
            if !new.aliases.contains(alias) && *alias != new.name {
                self.push(
                    Rule::AliasRemoved,
                    path.to_string(),
                    Impact::wire(&[OldToNew], ALL),
                    format!("senders that write \"{alias}\" (early editions, old variants) are no longer understood; keep \"{alias}\" in x-aliases of \"{}\"", new.name),
                );
            }
        }
        for alias in &new.aliases {
            if !old.aliases.contains(alias) && *alias != old.name {
                self.push(
                    Rule::AliasAdded,
                    path.to_string(),
                    Impact::safe(),
                    format!("receivers now also read \"{alias}\""),
                );
            }
        }
        if old.reply_fill != new.reply_fill {
            self.push(
                Rule::ReplyFillChanged,
                path.to_string(),
                Impact::safe(),
                format!(
                    "a reply now fills \"{}\" with {} (was {})",
                    new.name,
                    new.reply_fill
                        .as_deref()
                        .map_or("the default".to_string(), |f| format!("the request's {f}")),
                    old.reply_fill
                        .as_deref()
                        .map_or("the default".to_string(), |f| format!("the request's {f}")),
                ),
            );
        }
        if old.sender_fill != new.sender_fill {
            let api = old.settable() != new.settable();
            let impact = if api {
                Impact::safe().api(ALL)
            } else {
                Impact::safe()
            };
            self.push(
                Rule::SenderFillChanged,
                path.to_string(),
                impact,
                format!(
                    "senders now fill \"{}\" with {} (was {}){}",
                    new.name,
                    new.sender_fill.map_or("the default", |f| f.as_str()),
                    old.sender_fill.map_or("the default", |f| f.as_str()),
                    if api {
                        "; its setter appears or disappears in every SDK"
                    } else {
                        ""
                    }
                ),
            );
        }
        self.types(&old.ty, &new.ty, path, &new.name);
    }

    fn presence(&mut self, old: &Field, new: &Field, path: &str) {
        let name = &new.name;
        let old_required = old.default.is_none() && !old.optional;
        let new_required = new.default.is_none() && !new.optional;
        match (old_required, new_required) {
            (false, true) => self.push(
                Rule::DefaultRemoved,
                path.to_string(),
                Impact::wire(&[OldToNew], ALL).api(ALL),
                format!("new receivers refuse messages without \"{name}\" (missing_key), which old senders may omit; keep a default"),
            ),
            (true, false) if new.optional => self.push(
                Rule::RequiredBecameOptional,
                path.to_string(),
                Impact::wire(&[NewToOld], ALL).api(ALL),
                format!("new senders leave \"{name}\" out when absent and old receivers refuse that (missing_key); give it a default instead, and note that its type is now an Option"),
            ),
            (true, false) => self.push(
                Rule::DefaultAdded,
                path.to_string(),
                Impact::safe(),
                format!("\"{name}\" now has a default ({}); senders still write it", describe_default(new)),
            ),
            (false, false) if old.optional && !new.optional => self.push(
                Rule::OptionalGotDefault,
                path.to_string(),
                Impact::wire(&[OldToNew], ALL).api(ALL),
                format!("old senders leave \"{name}\" out meaning \"absent\"; new receivers read {} instead, and its type is no longer an Option", describe_default(new)),
            ),
            (false, false) if !old.optional && new.optional => self.push(
                Rule::DefaultBecameOptional,
                path.to_string(),
                Impact::wire(&[NewToOld], ALL).api(ALL),
                format!("new senders leave \"{name}\" out when absent; old receivers read {} instead; keep the default", describe_default(old)),
            ),
            (false, false) if !same_default(&old.default, &new.default) => self.push(
                Rule::DefaultChanged,
                path.to_string(),
                Impact::wire(&[OldToNew, NewToOld], ALL),
                format!("a message without \"{name}\" means {} to old receivers and {} to new ones; keep the old default, or make senders always write the key", describe_default(old), describe_default(new)),
            ),
            _ => {}
        }
    }

    fn types(&mut self, old: &FieldType, new: &FieldType, path: &str, name: &str) {
        use FieldType as T;
        match (old, new) {
            (
                T::String {
                    max_bytes: old_max,
                    format: old_format,
                    constant: old_const,
                },
                T::String {
                    max_bytes: new_max,
                    format: new_format,
                    constant: new_const,
                },
            ) => {
                self.capacity(*old_max, *new_max, path, name, "x-max-bytes");
                self.format(*old_format, *new_format, path, name);
                if old_const != new_const {
                    match new_const {
                        Some(c) => self.push(
                            Rule::ConstAdded,
                            path.to_string(),
                            Impact::wire(&[OldToNew], ALL).api(ALL),
                            format!("new receivers refuse \"{name}\" values other than \"{c}\" (bad_value), which old senders may send"),
                        ),
                        None => self.push(
                            Rule::ConstRemoved,
                            path.to_string(),
                            Impact::wire(&[NewToOld], ALL),
                            format!("new senders may send \"{name}\" values old receivers refuse (bad_value); keep the const until every receiver is upgraded"),
                        ),
                    }
                }
            }
            (T::FreeObject { max_bytes: a }, T::FreeObject { max_bytes: b }) => {
                self.capacity(*a, *b, path, name, "x-max-bytes")
            }
            (T::Enum(a), T::Enum(b)) => {
                let same_values = |x: &str, y: &str| {
                    let wires = |m: &Model, n: &str| -> Vec<String> {
                        m.enums
                            .iter()
                            .find(|e| e.name == n)
                            .map(|e| e.values.iter().map(|v| v.wire.clone()).collect())
                            .unwrap_or_default()
                    };
                    wires(self.old, x) == wires(self.new, y)
                };
                if a != b && same_values(a, b) {
                    self.push(
                        Rule::GeneratedNameChanged,
                        path.to_string(),
                        Impact::safe().api(ALL),
                        format!("the enumeration of \"{name}\" is now called {b} (was {a}) in every SDK; keep the old $defs key or update code that names it"),
                    );
                } else if a != b {
                    self.push(
                        Rule::FieldTypeChanged,
                        path.to_string(),
                        Impact::wire(&[OldToNew, NewToOld], ALL).api(ALL),
                        format!("\"{name}\" now takes values of {b} instead of {a}"),
                    );
                }
            }
            (T::Struct(a), T::Struct(b)) => self.structure(a, b),
            (
                T::Array {
                    item: a,
                    max_items: old_max,
                },
                T::Array {
                    item: b,
                    max_items: new_max,
                },
            ) => {
                if old_max != new_max {
                    let (rule, impact, advice) = if new_max < old_max {
                        (
                            Rule::MaxItemsLowered,
                            Impact::wire(&[OldToNew], &[Sdk::NoStd]).api(&[Sdk::NoStd]),
                            format!(
                                "new no_std receivers refuse \"{name}\" with more than {new_max} items (over_capacity), which old senders may send; lower it only when no sender sends that many"
                            ),
                        )
                    } else {
                        (
                            Rule::MaxItemsRaised,
                            Impact::wire(&[NewToOld], &[Sdk::NoStd]).api(&[Sdk::NoStd]),
                            format!(
                                "old no_std receivers refuse \"{name}\" with more than {old_max} items (over_capacity); upgrade the firmware before senders use the room"
                            ),
                        )
                    };
                    self.push(rule, path.to_string(), impact, advice);
                }
                self.types(a, b, &format!("{path}/items"), name);
            }
            (a, b) if a == b => {}
            (a, b) => {
                let widened = matches!(
                    (a, b),
                    (T::Unsigned, T::Signed) | (T::Unsigned | T::Signed, T::Number)
                );
                if widened {
                    self.push(
                        Rule::FieldTypeWidened,
                        path.to_string(),
                        Impact::wire(&[NewToOld], ALL).api(ALL),
                        format!("new senders may send \"{name}\" values old receivers refuse (a negative or fractional number); the Rust type changes too"),
                    );
                } else {
                    self.push(
                        Rule::FieldTypeChanged,
                        path.to_string(),
                        Impact::wire(&[OldToNew, NewToOld], ALL).api(ALL),
                        format!("\"{name}\" changes JSON type ({} to {}): each side refuses the other's messages (wrong_type); add a new field instead and keep the old one", type_word(a), type_word(b)),
                    );
                }
            }
        }
    }

    fn capacity(&mut self, old: usize, new: usize, path: &str, name: &str, keyword: &str) {
        if new < old {
            self.push(
                Rule::CapacityLowered,
                path.to_string(),
                Impact::wire(&[OldToNew], &[Sdk::NoStd]).api(&[Sdk::NoStd]),
                format!("new no_std receivers refuse \"{name}\" values over {new} bytes (over_capacity), which old senders may send up to {old}; std and Python are not affected; keep {keyword} {old} unless no sender writes more"),
            );
        } else if new > old {
            self.push(
                Rule::CapacityRaised,
                path.to_string(),
                Impact::wire(&[NewToOld], &[Sdk::NoStd]).api(&[Sdk::NoStd]),
                format!("old no_std receivers refuse \"{name}\" values over {old} bytes (over_capacity); upgrade the firmware before senders write longer values"),
            );
        }
    }

    fn format(
        &mut self,
        old: Option<StringFormat>,
        new: Option<StringFormat>,
        path: &str,
        name: &str,
    ) {
        if old == new {
            return;
        }
        match new {
            Some(_) => self.push(
                Rule::FormatAdded,
                path.to_string(),
                Impact::wire(&[OldToNew], ALL),
                format!("new receivers refuse \"{name}\" values not in the format (bad_value), which old senders may send"),
            ),
            None => self.push(
                Rule::FormatRemoved,
                path.to_string(),
                Impact::wire(&[NewToOld], ALL),
                format!("new senders may send \"{name}\" values old receivers refuse (bad_value)"),
            ),
        }
    }

    fn enums(&mut self) {
        for old in &self.old.enums.clone() {
            let path = format!("/$defs/{}", old.name);
            let Some(new) = self.new.enums.iter().find(|e| e.name == old.name).cloned() else {
                self.push(
                    Rule::TypeRemoved,
                    path,
                    Impact::safe().api(ALL),
                    format!("the enumeration {} is gone from every SDK", old.name),
                );
                continue;
            };
            self.enumeration(old, &new, &path);
        }
        for old in &self.old.structs.clone() {
            // Inline structures go with their field (FIELD_REMOVED); `$defs` ones are named.
            let declared = self.old_places.of_struct(&old.name).starts_with("/$defs/");
            if declared && !self.new.structs.iter().any(|s| s.name == old.name) {
                self.push(
                    Rule::TypeRemoved,
                    self.old_places.of_struct(&old.name),
                    Impact::safe().api(ALL),
                    format!("the structure {} is gone from every SDK", old.name),
                );
            }
        }
    }

    fn enumeration(&mut self, old: &Enum, new: &Enum, path: &str) {
        let name = &new.name;
        for value in &old.values {
            match new.values.iter().find(|v| v.wire == value.wire) {
                None => {
                    let impact = if new.open.is_some() {
                        Impact::wire(&[OldToNew], ALL).api(RUST)
                    } else {
                        Impact::wire(&[OldToNew], ALL).api(ALL)
                    };
                    let how = if new.open.is_some() {
                        "read as an unknown value"
                    } else {
                        "refused (bad_value)"
                    };
                    self.push(
                        Rule::EnumValueRemoved,
                        path.to_string(),
                        impact,
                        format!("\"{}\" of {name} sent by old senders is {how}; keep it, as x-receive-only if senders should stop sending it", value.wire),
                    );
                }
                Some(v) if !value.receive_only && v.receive_only => self.push(
                    Rule::EnumValueMadeReceiveOnly,
                    path.to_string(),
                    Impact::safe(),
                    format!(
                        "\"{}\" of {name} is still read but no longer sent",
                        value.wire
                    ),
                ),
                Some(v) if value.receive_only && !v.receive_only => self.push(
                    Rule::ReceiveOnlyValueNowSent,
                    path.to_string(),
                    Impact::safe(),
                    format!(
                        "\"{}\" of {name} is now also sent; old receivers already read it",
                        value.wire
                    ),
                ),
                Some(_) => {}
            }
        }
        for value in &new.values {
            if old.values.iter().any(|v| v.wire == value.wire) {
                continue;
            }
            if value.receive_only {
                self.push(
                    Rule::EnumAliasAdded,
                    path.to_string(),
                    Impact::safe().api(RUST),
                    format!("receivers now also read \"{}\" of {name}; Rust matches on {name} gain a variant", value.wire),
                );
            } else if old.open.is_some() {
                self.push(
                    Rule::OpenEnumValueAdded,
                    path.to_string(),
                    Impact::safe().api(RUST),
                    format!("old receivers keep \"{}\" of {name} as an unknown value (Other); exhaustive Rust matches on {name} gain a variant", value.wire),
                );
            } else {
                self.push(
                    Rule::ClosedEnumValueAdded,
                    path.to_string(),
                    Impact::wire(&[NewToOld], ALL).api(RUST),
                    format!("old receivers refuse \"{}\" of the closed enumeration {name} (bad_value); upgrade receivers before senders use it, or make {name} open (x-open-enum)", value.wire),
                );
            }
        }
        for (alias, _) in &old.aliases {
            if !new.aliases.iter().any(|(a, _)| a == alias)
                && !new.values.iter().any(|v| v.wire == *alias)
            {
                self.push(
                    Rule::EnumAliasRemoved,
                    path.to_string(),
                    Impact::wire(&[OldToNew], ALL),
                    format!("senders writing \"{alias}\" for {name} are no longer understood; keep it in x-enum-aliases"),
                );
            }
        }
        for (alias, _) in &new.aliases {
            if !old.aliases.iter().any(|(a, _)| a == alias) {
                self.push(
                    Rule::EnumAliasAdded,
                    path.to_string(),
                    Impact::safe(),
                    format!("receivers now also read \"{alias}\" for {name}"),
                );
            }
        }
        match (old.open, new.open) {
            (None, Some(_)) => self.push(
                Rule::EnumOpened,
                path.to_string(),
                Impact::safe().api(RUST),
                format!("{name} keeps unknown values (Other) instead of refusing them; Rust matches gain the Other variant"),
            ),
            (Some(_), None) => self.push(
                Rule::EnumClosed,
                path.to_string(),
                Impact::wire(&[OldToNew], ALL).api(RUST),
                format!("new receivers refuse values of {name} they do not know (bad_value), which old receivers kept; keep x-open-enum"),
            ),
            (Some(a), Some(b)) => self.capacity(a, b, path, name, "x-max-bytes"),
            (None, None) => {}
        }
    }

    fn constants(&mut self) {
        for old in &self.old.constants {
            let path = format!("/x-constants/{}", old.name);
            match self.new.constants.iter().find(|c| c.name == old.name) {
                Some(new) if new.value == old.value => {}
                Some(new) => self.findings.push(Finding {
                    rule: Rule::ConstantChanged,
                    path,
                    impact: Impact::safe().api(ALL),
                    advice: format!(
                        "{} changes from {} to {}: code relying on the old value changes meaning",
                        old.name, old.value, new.value
                    ),
                }),
                None => self.findings.push(Finding {
                    rule: Rule::ConstantChanged,
                    path,
                    impact: Impact::safe().api(ALL),
                    advice: format!("the constant {} is gone from every SDK", old.name),
                }),
            }
        }
        for new in &self.new.constants {
            if !self.old.constants.iter().any(|c| c.name == new.name) {
                self.findings.push(Finding {
                    rule: Rule::ConstantAdded,
                    path: format!("/x-constants/{}", new.name),
                    impact: Impact::safe(),
                    advice: format!("the constant {} = {} is new", new.name, new.value),
                });
            }
        }
    }

    fn error_kinds(&mut self) {
        for old in &self.old.error_kinds {
            if !self.new.error_kinds.iter().any(|k| k.name == old.name) {
                self.findings.push(Finding {
                    rule: Rule::ErrorKindRemoved,
                    path: format!("/x-error-kinds/{}", old.name),
                    impact: Impact::safe().api(ALL),
                    advice: format!("code matching the error kind {} stops compiling (Rust) or never matches (Python)", old.name),
                });
            }
        }
        for new in &self.new.error_kinds {
            if !self.old.error_kinds.iter().any(|k| k.name == new.name) {
                self.findings.push(Finding {
                    rule: Rule::ErrorKindAdded,
                    path: format!("/x-error-kinds/{}", new.name),
                    impact: Impact::safe(),
                    advice: format!(
                        "a new error kind {}: ErrorKind is non-exhaustive in Rust and a string in Python",
                        new.name
                    ),
                });
            }
        }
    }
}

/// Equal defaults, an integer and the same number counting as equal (`0` and `0.0`).
fn same_default(a: &Option<DefaultValue>, b: &Option<DefaultValue>) -> bool {
    let number = |d: &Option<DefaultValue>| match d {
        Some(DefaultValue::Unsigned(n)) => Some(*n as f64),
        Some(DefaultValue::Signed(n)) => Some(*n as f64),
        Some(DefaultValue::Number(n)) => Some(*n),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn describe_default(field: &Field) -> String {
    match &field.default {
        None if field.optional => "absent".to_string(),
        None => "nothing (required)".to_string(),
        Some(DefaultValue::String(s)) => format!("{s:?}"),
        Some(DefaultValue::EmptyObject | DefaultValue::StructDefaults) => "{}".to_string(),
        Some(DefaultValue::EmptyArray) => "[]".to_string(),
        Some(DefaultValue::Bool(b)) => b.to_string(),
        Some(DefaultValue::Unsigned(n)) => n.to_string(),
        Some(DefaultValue::Signed(n)) => n.to_string(),
        Some(DefaultValue::Number(n)) => n.to_string(),
    }
}

fn type_word(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::String { .. } => "string",
        FieldType::Bool => "boolean",
        FieldType::Unsigned => "unsigned integer",
        FieldType::Signed => "signed integer",
        FieldType::Number => "number",
        FieldType::FreeObject { .. } => "free-form object",
        FieldType::Enum(_) => "enumeration",
        FieldType::Struct(_) => "structure",
        FieldType::Array { .. } => "array",
    }
}

/// Reads both schemas and compares them; errors when either is refused by the generator.
pub fn compare_texts(
    old_name: &str,
    old_text: &str,
    new_name: &str,
    new_text: &str,
) -> Result<Vec<Finding>, crate::SchemaError> {
    let old = crate::read_schema(old_name, old_text)?;
    let new = crate::read_schema(new_name, new_text)?;
    let defs = |text: &str| -> Vec<String> {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| {
                v.get("$defs")
                    .and_then(|d| d.as_object())
                    .map(|d| d.keys().cloned().collect())
            })
            .unwrap_or_default()
    };
    Ok(compare(&old, &defs(old_text), &new, &defs(new_text)))
}

/// An allowed finding (`--allow RULE:PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub rule: Rule,
    pub path: String,
}

impl Allow {
    /// Parses `RULE:PATH`.
    pub fn parse(text: &str) -> Result<Allow, String> {
        let (rule, path) = text
            .split_once(':')
            .ok_or_else(|| format!("--allow {text:?}: expected RULE:PATH"))?;
        let rule =
            Rule::parse(rule).ok_or_else(|| format!("--allow {text:?}: unknown rule {rule:?}"))?;
        Ok(Allow {
            rule,
            path: path.to_string(),
        })
    }

    /// Whether this allows `finding`.
    pub fn covers(&self, finding: &Finding) -> bool {
        self.rule == finding.rule && self.path == finding.path
    }
}
