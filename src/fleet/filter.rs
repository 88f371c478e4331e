//! Attribute filters: the small predicate language shared by updatable asset groups (`[groups]`)
//! and hidden issues (`[[issues]] when`).
//!
//! ```text
//! expr  := and ("or" and)*
//! and   := unary ("and" unary)*
//! unary := "not" unary | "(" expr ")" | cmp
//! cmp   := NAME ("=" | "!=") STRING
//!        | NAME ["not"] "in" "[" STRING ("," STRING)* "]"
//! ```
//!
//! `NAME` is an attribute name from the segments, or `segment` for the segment's name. A device
//! without the attribute never equals a value (and so is `!=` every value). `==` is refused
//! with a hint to write `=`: the README documents one syntax, and a second spelling accepted
//! silently would let filters drift from it.

use std::collections::HashMap;

use super::{AttrChoice, Fleet, SegmentSpec};

/// Most combinations of attribute values [`Filter::can_match`] tries in one segment; beyond, it
/// answers that a device may match rather than spend the time to rule it out.
const MAX_COMBINATIONS: usize = 100_000;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// Does not hold.
    Not(Box<Filter>),
    /// Attribute value is one of these (`=` is a one-element list).
    In(String, Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Eq,
    Ne,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

/// Tokens with the 0-based position of their first character. Positions count characters, not
/// bytes: attribute names come from TOML keys and inventory headers (`Modèle`), and a message
/// saying "at character 9" must point where the user counts.
fn lex(s: &str) -> Result<Vec<(usize, Tok)>, String> {
    let chars: Vec<char> = s.chars().collect();
    let name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' | ')' | '[' | ']' | ',' => {
                out.push((
                    i,
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBracket,
                        ']' => Tok::RBracket,
                        _ => Tok::Comma,
                    },
                ));
                i += 1;
            }
            '=' if chars.get(i + 1) == Some(&'=') => {
                return Err(format!(
                    "'==' at character {}: write '=' (a filter compares with one '=', as in model = \"L9\")",
                    i + 1
                ));
            }
            '=' => {
                out.push((i, Tok::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push((i, Tok::Ne));
                i += 2;
            }
            '"' | '\'' => {
                let len = chars[i + 1..].iter().position(|&x| x == c).ok_or_else(|| {
                    format!("unterminated string starting at character {}", i + 1)
                })?;
                out.push((i, Tok::Str(chars[i + 1..i + 1 + len].iter().collect())));
                i += len + 2;
            }
            c if name_char(c) => {
                let len = chars[i..].iter().take_while(|&&x| name_char(x)).count();
                out.push((i, Tok::Ident(chars[i..i + len].iter().collect())));
                i += len;
            }
            other => {
                return Err(format!(
                    "unexpected character '{other}' at character {}",
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn at(&self) -> String {
        match self.toks.get(self.pos) {
            Some((i, _)) => format!("at character {}", i + 1),
            None => "at the end".to_string(),
        }
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == k)
    }
    fn expr(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.expr()?;
            if self.peek() != Some(&Tok::RParen) {
                return Err(format!("expected ')' {}", self.at()));
            }
            self.pos += 1;
            return Ok(e);
        }
        self.cmp()
    }
    fn string(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(format!("expected a quoted value {}", self.at())),
        }
    }
    fn cmp(&mut self) -> Result<Filter, String> {
        let name = match self.peek() {
            Some(Tok::Ident(n)) if !["and", "or", "not", "in"].contains(&n.as_str()) => n.clone(),
            _ => return Err(format!("expected an attribute name {}", self.at())),
        };
        self.pos += 1;
        match self.peek() {
            Some(Tok::Eq) => {
                self.pos += 1;
                Ok(Filter::In(name, vec![self.string()?]))
            }
            Some(Tok::Ne) => {
                self.pos += 1;
                Ok(Filter::Not(Box::new(Filter::In(
                    name,
                    vec![self.string()?],
                ))))
            }
            Some(Tok::Ident(w)) if w == "in" || w == "not" => {
                let negate = w == "not";
                self.pos += 1;
                if negate {
                    if !self.keyword("in") {
                        return Err(format!("expected 'in' after 'not' {}", self.at()));
                    }
                    self.pos += 1;
                }
                if self.peek() != Some(&Tok::LBracket) {
                    return Err(format!("expected '[' {}", self.at()));
                }
                self.pos += 1;
                let mut vals = vec![self.string()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    vals.push(self.string()?);
                }
                if self.peek() != Some(&Tok::RBracket) {
                    return Err(format!("expected ']' {}", self.at()));
                }
                self.pos += 1;
                let f = Filter::In(name, vals);
                Ok(if negate { Filter::Not(Box::new(f)) } else { f })
            }
            _ => Err(format!(
                "expected '=', '!=' or 'in' after \"{name}\" {}",
                self.at()
            )),
        }
    }
}

impl Filter {
    /// Parses filter text, e.g. `driver = "gfx-31.0" and model in ["L7", "L9"]`.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let mut p = Parser {
            toks: lex(s)?,
            pos: 0,
        };
        if p.toks.is_empty() {
            return Err("is empty; write e.g. model = \"L9\"".to_string());
        }
        let f = p.expr()?;
        if p.pos < p.toks.len() {
            return Err(format!("unexpected text {}", p.at()));
        }
        Ok(f)
    }

    /// Attribute names the filter mentions.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut v = a.names();
                v.extend(b.names());
                v
            }
            Filter::Not(a) => a.names(),
            Filter::In(n, _) => vec![n.as_str()],
        }
    }

    fn eval(&self, fleet: &Fleet, segment: u16, combo: u32) -> bool {
        match self {
            Filter::And(a, b) => a.eval(fleet, segment, combo) && b.eval(fleet, segment, combo),
            Filter::Or(a, b) => a.eval(fleet, segment, combo) || b.eval(fleet, segment, combo),
            Filter::Not(a) => !a.eval(fleet, segment, combo),
            Filter::In(name, vals) => {
                let v = if name == "segment" {
                    fleet
                        .segments
                        .get(segment as usize)
                        .map(|s| s.name.as_str())
                } else {
                    fleet.attributes.get(combo, name)
                };
                v.is_some_and(|v| vals.iter().any(|x| x == v))
            }
        }
    }

    /// Whether the filter holds where `value` gives each attribute's value (None: the device
    /// lacks it).
    fn holds<'v>(&self, value: &impl Fn(&str) -> Option<&'v str>) -> bool {
        match self {
            Filter::And(a, b) => a.holds(value) && b.holds(value),
            Filter::Or(a, b) => a.holds(value) || b.holds(value),
            Filter::Not(a) => !a.holds(value),
            Filter::In(name, vals) => value(name).is_some_and(|v| vals.iter().any(|x| x == v)),
        }
    }

    /// Whether a device of `seg` can match, whatever the draw: whether some combination of the
    /// values the segment can give the attributes the filter names (a value of weight 0 is never
    /// drawn; an attribute the segment lacks has no value) satisfies it. Decided at load, from
    /// the segment's definition; true when there are too many combinations to try.
    pub fn can_match(&self, seg: &SegmentSpec) -> bool {
        let mut names = self.names();
        names.sort_unstable();
        names.dedup();
        let domains: Vec<Vec<Option<&str>>> = names
            .iter()
            .map(|n| {
                if *n == "segment" {
                    return vec![Some(seg.name.as_str())];
                }
                match seg.attributes.iter().find(|(k, _)| k == n).map(|(_, c)| c) {
                    None => vec![None],
                    Some(AttrChoice::Fixed(v)) => vec![Some(v.as_str())],
                    Some(AttrChoice::Weighted(vs)) => vs
                        .iter()
                        .filter(|(_, w)| *w > 0.0)
                        .map(|(v, _)| Some(v.as_str()))
                        .collect(),
                }
            })
            .collect();
        let combinations = domains
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(d.len().max(1)));
        if combinations.is_none_or(|n| n > MAX_COMBINATIONS) {
            return true;
        }
        if domains.iter().any(Vec::is_empty) {
            return false;
        }
        // Every combination, as the index of each attribute's value, counting like an odometer.
        let mut at = vec![0usize; domains.len()];
        loop {
            let value = |name: &str| {
                names
                    .iter()
                    .position(|n| *n == name)
                    .and_then(|i| domains[i][at[i]])
            };
            if self.holds(&value) {
                return true;
            }
            let mut i = 0;
            loop {
                if i == at.len() {
                    return false;
                }
                at[i] += 1;
                if at[i] < domains[i].len() {
                    break;
                }
                at[i] = 0;
                i += 1;
            }
        }
    }

    /// Whether every device of `seg` matches, whatever the draw (see [`Filter::can_match`];
    /// false when there are too many combinations to try).
    pub fn always_matches(&self, seg: &SegmentSpec) -> bool {
        !Filter::Not(Box::new(self.clone())).can_match(seg)
    }

    /// For every device, whether the filter holds (evaluated once per segment × combination).
    pub fn matches(&self, fleet: &Fleet) -> Vec<bool> {
        let mut cache: HashMap<(u16, u32), bool> = HashMap::new();
        fleet
            .devices()
            .map(|d| {
                *cache
                    .entry((d.segment, d.combo))
                    .or_insert_with(|| self.eval(fleet, d.segment, d.combo))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let f = Filter::parse(r#"a = "1" or b = "2" and not c in ["3", '4']"#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(Filter::In("a".into(), vec!["1".into()])),
                Box::new(Filter::And(
                    Box::new(Filter::In("b".into(), vec!["2".into()])),
                    Box::new(Filter::Not(Box::new(Filter::In(
                        "c".into(),
                        vec!["3".into(), "4".into()]
                    ))))
                ))
            )
        );
    }

    #[test]
    fn a_double_equals_sign_is_refused_with_where_it_is_and_a_hint_to_write_one() {
        let e = Filter::parse(r#"model = "L7" and driver == "gfx-31.0""#).unwrap_err();
        assert_eq!(
            e,
            "'==' at character 25: write '=' (a filter compares with one '=', as in model = \"L9\")"
        );
        // Inside a value it is text, not an operator.
        assert!(Filter::parse(r#"model = "a==b""#).is_ok());
    }

    #[test]
    fn a_non_ascii_attribute_name_is_a_name_not_a_panic() {
        // Once a panic ("end byte index 2 is not a char boundary"): now a name like any other.
        assert_eq!(
            Filter::parse(r#"mødel = "K1""#),
            Ok(Filter::In("mødel".into(), vec!["K1".into()]))
        );
        // Unicode letters name attributes, as quoted TOML keys and inventory headers do.
        let f = Filter::parse(r#"Modèle in ["Σ-7", "L9"] and 型号 != "x""#).unwrap();
        assert_eq!(f.names(), ["Modèle", "型号"]);
        // Anything else after one is still refused, with where it is.
        let e = Filter::parse(r#"mødel ≠ "K1""#).unwrap_err();
        assert_eq!(e, "unexpected character '≠' at character 7");
    }

    #[test]
    fn positions_in_messages_count_characters_not_bytes() {
        let e = Filter::parse("Modèle = L9").unwrap_err();
        assert!(e.contains("quoted value at character 10"), "{e}");
        let e = Filter::parse(r#"modèle = "é" and driver == "x""#).unwrap_err();
        assert!(e.starts_with("'==' at character 25"), "{e}");
        let e = Filter::parse(r#"modèle = "ééé"#).unwrap_err();
        assert_eq!(e, "unterminated string starting at character 10");
    }

    #[test]
    fn not_in_and_inequality_parse() {
        assert!(Filter::parse(r#"model not in ["L7"] and (driver != "x")"#).is_ok());
    }

    fn segment(name: &str, attributes: Vec<(&str, AttrChoice)>) -> SegmentSpec {
        SegmentSpec {
            name: name.into(),
            devices: 10,
            policy: 0,
            utc_offset: 0,
            time_zone: None,
            profile: crate::fleet::Profile::AlwaysOn,
            off: Vec::new(),
            attended: false,
            attributes: attributes
                .into_iter()
                .map(|(k, c)| (k.to_string(), c))
                .collect(),
        }
    }

    #[test]
    fn whether_a_segment_can_match_is_decided_from_the_values_it_can_draw() {
        let weighted = |vs: &[(&str, f64)]| {
            AttrChoice::Weighted(vs.iter().map(|(v, w)| (v.to_string(), *w)).collect())
        };
        let laptops = segment(
            "laptops",
            vec![
                (
                    "driver",
                    weighted(&[("gfx-30", 0.7), ("gfx-31", 0.3), ("gfx-32", 0.0)]),
                ),
                ("maker", AttrChoice::Fixed("Fabrikam".into())),
            ],
        );
        let f = |s: &str| Filter::parse(s).unwrap();
        assert!(f(r#"driver = "gfx-31" and maker = "Fabrikam""#).can_match(&laptops));
        assert!(!f(r#"driver = "gfx-31.5""#).can_match(&laptops));
        // A value of weight 0 is never drawn.
        assert!(!f(r#"driver = "gfx-32""#).can_match(&laptops));
        assert!(!f(r#"driver = "gfx-31" and maker = "Contoso""#).can_match(&laptops));
        // An attribute the segment lacks equals nothing, and differs from everything.
        assert!(!f(r#"model = "L9""#).can_match(&laptops));
        assert!(f(r#"model != "L9""#).can_match(&laptops));
        assert!(f(r#"segment = "laptops""#).always_matches(&laptops));
        assert!(f(r#"maker = "Fabrikam""#).always_matches(&laptops));
        assert!(!f(r#"driver = "gfx-31""#).always_matches(&laptops));
        assert!(f(r#"driver in ["gfx-30", "gfx-31"]"#).always_matches(&laptops));
    }

    #[test]
    fn too_many_combinations_to_try_are_taken_as_possibly_matching() {
        let many = |k: &str| {
            let vs = (0..400).map(|i| (format!("{k}{i}"), 1.0)).collect();
            (k.to_string(), AttrChoice::Weighted(vs))
        };
        let mut seg = segment("s", vec![]);
        seg.attributes = vec![many("a"), many("b")];
        let f = Filter::parse(r#"a = "x" and b = "y""#).unwrap();
        assert!(f.can_match(&seg));
        assert!(!f.always_matches(&seg));
    }

    #[test]
    fn malformed_filters_say_where() {
        let e = Filter::parse(r#"model = L9"#).unwrap_err();
        assert!(e.contains("quoted value at character 9"), "{e}");
        assert!(Filter::parse(r#"model = "L9" and"#).is_err());
        assert!(Filter::parse(r#"model ~ "L9""#).is_err());
        assert!(Filter::parse(r#"model = "L9"#).is_err());
        assert!(Filter::parse("").is_err());
    }
}
