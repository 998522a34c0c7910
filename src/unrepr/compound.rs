//! Compound statements after the value (`if`, `while`, `for`, `try`, `with`, `def`, `class`,
//! decorators, `async`), on a later line of the value. configparser strips every line, so
//! their bodies are one-line forms (`if x: pass`); an indented block would need a line that
//! starts with an empty interpolation, and is reported as an error where Python accepts it.

use super::lexer::Kind;
use super::parser::{BRACKET_LEVELS, Fail, PResult, Parser};
use super::syntax::{SyntaxError, TargetUse, check_target};

impl Parser<'_> {
    /// Parses a compound statement if one starts here; `Ok(false)` if none does.
    pub(super) fn compound_stmt(&mut self) -> PResult<bool> {
        if self.is_op("@") {
            while self.eat_op("@") {
                self.named_expression()?;
                if !self.is_kind(Kind::Newline) {
                    return Err(Fail::Generic);
                }
                self.advance();
            }
            self.eat_kw("async");
            if self.is_kw("def") {
                self.function_def()?;
            } else {
                self.class_def()?;
            }
            return Ok(true);
        }
        let t = self.peek();
        if t.kind != Kind::Name {
            return Ok(false);
        }
        match self.text(t) {
            "if" => self.if_stmt()?,
            "while" => {
                self.advance();
                self.named_expression()?;
                self.block_after_colon()?;
                self.else_block()?;
            }
            "for" => self.for_stmt()?,
            "try" => self.try_stmt()?,
            "with" => self.with_stmt()?,
            "def" => self.function_def()?,
            "class" => self.class_def()?,
            "async" => {
                self.advance();
                let next = self.peek();
                match self.text(next) {
                    "def" => self.function_def()?,
                    "for" => self.for_stmt()?,
                    "with" => self.with_stmt()?,
                    _ => return Err(Fail::Generic),
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `':' block`.
    fn block_after_colon(&mut self) -> PResult<()> {
        self.expect_op(":")?;
        if !self.is_kind(Kind::Newline) {
            self.simple_stmt_line()?;
            return Ok(());
        }
        self.advance();
        let next = self.peek();
        let message = if next.kind == Kind::Indent {
            "indented blocks are not supported in config values"
        } else {
            "expected an indented block"
        };
        Err(SyntaxError::new(message, next.span()).into())
    }

    fn else_block(&mut self) -> PResult<()> {
        if self.eat_kw("else") {
            self.block_after_colon()?;
        }
        Ok(())
    }

    fn if_stmt(&mut self) -> PResult<()> {
        self.expect_kw("if")?;
        self.named_expression()?;
        self.block_after_colon()?;
        while self.eat_kw("elif") {
            self.named_expression()?;
            self.block_after_colon()?;
        }
        self.else_block()
    }

    fn for_stmt(&mut self) -> PResult<()> {
        self.expect_kw("for")?;
        self.for_targets()?;
        self.expect_kw("in")?;
        self.star_expressions()?;
        self.block_after_colon()?;
        self.else_block()
    }

    fn try_stmt(&mut self) -> PResult<()> {
        self.expect_kw("try")?;
        self.block_after_colon()?;
        let (mut handlers, mut star) = (0, None);
        while self.eat_kw("except") {
            let is_star = self.eat_op("*");
            if *star.get_or_insert(is_star) != is_star {
                return Err(Fail::Generic);
            }
            if is_star || !self.is_op(":") {
                self.expression()?;
                if self.eat_kw("as") {
                    self.expect_name()?;
                }
            }
            self.block_after_colon()?;
            handlers += 1;
        }
        if handlers > 0 {
            self.else_block()?;
        }
        if self.eat_kw("finally") {
            self.block_after_colon()?;
        } else if handlers == 0 {
            return Err(Fail::Generic);
        }
        Ok(())
    }

    fn with_stmt(&mut self) -> PResult<()> {
        self.expect_kw("with")?;
        // `with (a as b, c):` needs the parenthesized form; `with (a, b):` reads either way.
        if self.is_op("(") {
            let mark = self.mark();
            let parenthesized = (|| {
                self.advance();
                self.with_items(")")?;
                self.expect_op(")")?;
                if self.is_op(":") {
                    Ok(())
                } else {
                    Err(Fail::Generic)
                }
            })();
            if parenthesized.is_ok() {
                return self.block_after_colon();
            }
            self.reset(mark);
        }
        self.with_items(":")?;
        self.block_after_colon()
    }

    fn with_items(&mut self, close: &str) -> PResult<()> {
        loop {
            self.expression()?;
            if self.eat_kw("as") {
                let target = self.primary()?;
                check_target(&target, TargetUse::Assign)?;
            }
            if !self.eat_op(",") || self.is_op(close) {
                return Ok(());
            }
        }
    }

    fn function_def(&mut self) -> PResult<()> {
        self.expect_kw("def")?;
        self.expect_name()?;
        self.expect_op("(")?;
        self.parameters(true)?;
        self.expect_op(")")?;
        if self.eat_op("->") {
            self.expression()?;
        }
        self.block_after_colon()
    }

    fn class_def(&mut self) -> PResult<()> {
        self.expect_kw("class")?;
        self.expect_name()?;
        if self.eat_op("(") {
            self.nested(BRACKET_LEVELS, Self::call_arguments)?;
            self.expect_op(")")?;
        }
        self.block_after_colon()
    }

    /// Function (`annotated`, up to `)`) or lambda (up to `:`) parameters:
    /// `a, b=1, /, c, *d, e, **f`.
    pub(super) fn parameters(&mut self, annotated: bool) -> PResult<()> {
        let close = if annotated { ")" } else { ":" };
        let (mut count, mut seen_default, mut seen_star, mut seen_slash, mut bare_star) =
            (0, false, false, false, false);
        while !self.is_op(close) {
            if self.eat_op("**") {
                self.param(annotated, false)?;
                self.eat_op(",");
                if !self.is_op(close) {
                    return Err(Fail::Generic);
                }
                bare_star = false;
                break;
            }
            if self.is_op("*") {
                if seen_star {
                    return Err(Fail::Generic);
                }
                self.advance();
                seen_star = true;
                bare_star = !self.is_name();
                if !bare_star {
                    self.param(annotated, true)?;
                }
            } else if self.is_op("/") {
                if seen_slash || seen_star || count == 0 {
                    return Err(Fail::Generic);
                }
                self.advance();
                seen_slash = true;
            } else {
                self.param(annotated, false)?;
                count += 1;
                if self.eat_op("=") {
                    self.expression()?;
                    seen_default = true;
                } else if seen_default && !seen_star {
                    return Err(Fail::Generic);
                }
                bare_star = false;
            }
            if !self.eat_op(",") {
                break;
            }
        }
        if bare_star {
            return Err(Fail::Generic);
        }
        Ok(())
    }

    /// One parameter name with its optional annotation (`*args` may have `*Ts`).
    fn param(&mut self, annotated: bool, star: bool) -> PResult<()> {
        self.expect_name()?;
        if annotated && self.eat_op(":") {
            if star {
                self.star_expression()?
            } else {
                self.expression()?
            };
        }
        Ok(())
    }
}
