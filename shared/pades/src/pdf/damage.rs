//! Damage that makes a document unfit to be signed as is.
//!
//! The line drawn: cross-reference data that recovery rebuilds completely (every object found by
//! scanning, a trailer present) is repaired by the update itself, which then carries a complete
//! cross-reference section; other readers (qpdf, poppler, pyHanko) rebuild such files the same
//! way. A file cut short (no trailer, no `startxref`) or one whose page tree refers to objects
//! that are missing or unreadable is refused: a signature over it would certify a document that
//! readers show differently, or not at all.

use super::object::Obj;
use super::reader::{Document, XrefEntry};
use crate::PadesError;
use std::collections::HashSet;

/// What is wrong with a damaged document (see [`PadesError::Damaged`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The file ends before its cross-reference data and trailer.
    Truncated,
    /// An object the document refers to is not in the file.
    MissingObject {
        num: u32,
        /// what refers to it, e.g. "page tree node"
        role: &'static str,
    },
    /// An object the document refers to cannot be read.
    UnreadableObject { num: u32, role: &'static str, reason: String },
    /// A stream whose /Length is missing, wrong or cannot be resolved (e.g. a cycle of /Length
    /// references): readers disagree on where such a stream ends.
    StreamLength {
        num: u32,
        /// what is wrong with the /Length
        reason: String,
    },
    /// The page tree is not a tree of pages: a node is reached again below itself (a cycle),
    /// or a node holds fewer pages than its parent counted for it.
    PageTree {
        num: u32,
        /// what is wrong at that node
        reason: String,
    },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Truncated => f.write_str("it ends before its cross-reference data and trailer (truncated?)"),
            Damage::MissingObject { num, role } => write!(f, "object {num} ({role}) is missing from the file"),
            Damage::UnreadableObject { num, role, reason } => {
                write!(f, "object {num} ({role}) cannot be read: {reason}")
            }
            Damage::StreamLength { num, reason } => write!(f, "stream object {num} has a wrong length: {reason}"),
            Damage::PageTree { num, reason } => write!(f, "the page tree is broken at object {num}: {reason}"),
        }
    }
}

fn damaged(d: Damage) -> PadesError {
    PadesError::Damaged(d)
}

impl Document<'_> {
    fn present(&self, num: u32) -> bool {
        matches!(self.xref.get(&num), Some(XrefEntry::Offset(..) | XrefEntry::InStream(..)))
    }

    /// Object `num` as a dictionary, or the damage that prevents it.
    fn needed_dict(&self, num: u32, role: &'static str) -> Result<super::Dict, PadesError> {
        if !self.present(num) {
            return Err(damaged(Damage::MissingObject { num, role }));
        }
        match self.get(num, 0) {
            Ok(Obj::Dict(d) | Obj::Stream(d, _)) => Ok(d),
            Ok(_) => Err(damaged(Damage::UnreadableObject { num, role, reason: "not a dictionary".into() })),
            Err(e @ PadesError::Limit(_)) => Err(e),
            Err(e) => Err(damaged(Damage::UnreadableObject { num, role, reason: e.to_string() })),
        }
    }

    /// Whether the document can be signed as is: not truncated, its catalog readable, every
    /// node of its page tree present, and the page-tree nodes it must read to find the pages
    /// (and the pages it reads, with their content streams, and page 1) readable, the page tree
    /// free of cycles, and every stream's /Length right. Errors are
    /// [`PadesError::Damaged`] or, for a page tree beyond the walk budget, [`PadesError::Limit`].
    pub fn check_sound(&self) -> Result<(), PadesError> {
        if self.lost_its_tail() {
            return Err(damaged(Damage::Truncated));
        }
        let root = self.root_ref().ok_or_else(|| PadesError::Malformed("/Root is not a reference".into()))?;
        let catalog = self.needed_dict(root.0, "document catalog")?;
        if let Some(Obj::Ref(n, _)) = catalog.get("AcroForm") {
            self.needed_dict(*n, "interactive form")?;
        }
        let pages = match catalog.get("Pages") {
            Some(Obj::Ref(n, _)) => *n,
            _ => {
                return Err(damaged(Damage::UnreadableObject {
                    num: root.0,
                    role: "document catalog",
                    reason: "/Pages is not a reference".into(),
                }));
            }
        };
        self.check_page_tree(pages)?;
        // the pages counted from the tree itself (a /Kids cycle is damage, see count_leaves),
        // and page 1, which every signing act reads (an invisible signature sits there)
        if self.page_count()? > 0 {
            self.find_page(0)?;
        }
        self.check_lengths()
    }

    /// A stream whose /Length is not usable is damage: one read so far (signing calls this
    /// again once it has read everything it builds on), or any stream object of the file (only
    /// dictionaries are parsed, see [`Document::first_wrong_length`]).
    pub fn check_lengths(&self) -> Result<(), PadesError> {
        let bad = match self.bad_length() {
            Some(b) => Some(b),
            None => self.first_wrong_length()?,
        };
        match bad {
            Some((num, reason)) => Err(damaged(Damage::StreamLength { num, reason })),
            None => Ok(()),
        }
    }

    /// Every node once (a node reached again is not walked again), within the walk budget.
    fn check_page_tree(&self, root: u32) -> Result<(), PadesError> {
        let budget = self.options().max_walk_nodes;
        let mut seen = HashSet::new();
        let mut todo = vec![root];
        while let Some(num) = todo.pop() {
            if !seen.insert(num) {
                continue;
            }
            if seen.len() > budget {
                return Err(PadesError::Limit(format!("the page tree has more than {budget} nodes")));
            }
            let node = self.needed_dict(num, "page tree node")?;
            match node.get("Kids") {
                Some(kids) => {
                    let kids = match kids {
                        Obj::Ref(k, _) if !self.present(*k) => {
                            return Err(damaged(Damage::MissingObject { num: *k, role: "page tree /Kids" }));
                        }
                        other => self.resolve(other).unwrap_or(Obj::Null),
                    };
                    let Obj::Array(kids) = kids else {
                        return Err(damaged(Damage::UnreadableObject {
                            num,
                            role: "page tree node",
                            reason: "/Kids is not an array".into(),
                        }));
                    };
                    let refs = kids.iter().filter_map(|k| k.as_ref()).map(|r| r.0);
                    // A node counting as many pages as it has kids has leaves for kids (the
                    // usual last level): they must be present, but are not parsed, which
                    // would decode every object stream holding pages.
                    let count = node.get("Count").and_then(|c| c.as_int());
                    if count.is_some_and(|c| usize::try_from(c).is_ok_and(|c| c == kids.len())) {
                        for k in refs {
                            if !self.present(k) {
                                return Err(damaged(Damage::MissingObject { num: k, role: "page" }));
                            }
                        }
                    } else {
                        todo.extend(refs);
                    }
                }
                None => self.check_contents(&node)?,
            }
        }
        Ok(())
    }

    /// A page's content streams must be in the file (they are not parsed).
    fn check_contents(&self, page: &super::Dict) -> Result<(), PadesError> {
        let missing = |n: u32| Err(damaged(Damage::MissingObject { num: n, role: "page content" }));
        match page.get("Contents") {
            Some(Obj::Ref(n, _)) if !self.present(*n) => missing(*n),
            // an array of streams kept as its own object (a stream itself is not parsed)
            Some(Obj::Ref(n, _)) => {
                let array = match self.xref.get(n) {
                    Some(XrefEntry::Offset(off, _)) => {
                        super::object::parse_obj_header(self.data, *off).is_some_and(|(_, _, after)| {
                            self.data.get(super::object::skip_ws(self.data, after)) == Some(&b'[')
                        })
                    }
                    _ => true,
                };
                if !array {
                    return Ok(());
                }
                match self.get(*n, 0) {
                    Ok(Obj::Array(a)) => self.check_content_refs(&a),
                    _ => Ok(()),
                }
            }
            Some(Obj::Array(a)) => self.check_content_refs(a),
            _ => Ok(()),
        }
    }

    fn check_content_refs(&self, refs: &[Obj]) -> Result<(), PadesError> {
        match refs.iter().filter_map(|o| o.as_ref()).find(|r| !self.present(r.0)) {
            Some(r) => Err(damaged(Damage::MissingObject { num: r.0, role: "page content" })),
            None => Ok(()),
        }
    }

    /// The damage found by [`Document::check_sound`], if any.
    pub fn damage(&self) -> Option<Damage> {
        match self.check_sound() {
            Err(PadesError::Damaged(d)) => Some(d),
            _ => None,
        }
    }
}
